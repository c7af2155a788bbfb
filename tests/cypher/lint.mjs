// Lints Cypher statements with Neo4j's own language support (the parser and semantic analysis of Neo4j).
//
// stdin:  {"schema": {"labels": [...], "relationshipTypes": [...], "propertyKeys": [...]},
//          "statements": [{"name": "...", "text": "...", "params": {"rows": [...]}}]}
// stdout: {"checked": N, "diagnostics": [{"statement", "severity", "message", "line", "column", "text"}]}
// exit:   0 when no statement has any diagnostic (error, warning, deprecation), 1 otherwise.
//
// Neo4j's semantic analysis takes about 0.2 s a statement, so the statements are shared among worker threads.
import { availableParallelism } from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { lintCypherQuery, testData } from '@neo4j-cypher/language-support';

const LANGUAGE = 'CYPHER 5';

// The package's schema fixture is a dump of a real Neo4j server's SHOW FUNCTIONS; keeping only the
// built-in ones makes any APOC or plugin function an error, since users may not have them installed.
function builtInFunctions() {
  const all = testData.mockSchema.functions[LANGUAGE];
  return Object.fromEntries(Object.entries(all).filter(([, fn]) => fn.isBuiltIn));
}

function lintAll(schema, statements) {
  const functions = { [LANGUAGE]: builtInFunctions() };
  // No procedure is declared: zhuisu calls none, so any CALL of a procedure is reported.
  const procedures = { [LANGUAGE]: {} };
  const diagnostics = [];
  for (const statement of statements) {
    const dbSchema = {
      labels: schema.labels,
      relationshipTypes: schema.relationshipTypes,
      propertyKeys: schema.propertyKeys,
      parameters: statement.params,
      functions,
      procedures,
      defaultLanguage: LANGUAGE,
    };
    for (const d of lintCypherQuery(statement.text, dbSchema).diagnostics) {
      diagnostics.push({
        statement: statement.name,
        severity: d.severity === 1 ? 'error' : d.severity === 2 ? 'warning' : 'info',
        message: d.message,
        line: d.range.start.line + 1,
        column: d.range.start.character + 1,
        text: statement.text.slice(d.offsets.start, d.offsets.end),
      });
    }
  }
  return diagnostics;
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

if (isMainThread) {
  const input = await readStdin();
  const workers = Math.max(1, Math.min(availableParallelism(), Math.ceil(input.statements.length / 8)));
  const shares = Array.from({ length: workers }, (_, i) => input.statements.filter((_, j) => j % workers === i));
  const results = await Promise.all(shares.map((statements) => new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { schema: input.schema, statements } });
    worker.once('message', resolve);
    worker.once('error', reject);
  })));
  const diagnostics = results.flat();
  process.stdout.write(JSON.stringify({ checked: input.statements.length, diagnostics }) + '\n');
  for (const d of diagnostics) {
    process.stderr.write(`${d.statement}:${d.line}:${d.column}: ${d.severity}: ${d.message}\n`);
  }
  process.exitCode = diagnostics.length ? 1 : 0;
} else {
  parentPort.postMessage(lintAll(workerData.schema, workerData.statements));
}
