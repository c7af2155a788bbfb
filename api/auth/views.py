"""Routes of the keys domain: admin only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from zhuisu.api.auth import keys
from zhuisu.api.auth.models import KeyCreate, KeyCreated, KeyRead
from zhuisu.api.deps import AdminAccess, StoreDep
from zhuisu.api.errors import responses

router = APIRouter(tags=["keys 密钥"])


def _read(key: keys.ApiKey) -> KeyRead:
    return KeyRead(id=key.id, name=key.name, scopes=list(key.scopes), created_at=key.created_at,
                   revoked_at=key.revoked_at)


@router.post("/keys", status_code=status.HTTP_201_CREATED, response_model=KeyCreated,
             summary="新建密钥 Create an API key",
             description="需要 admin 权限。完整密钥只在此响应中出现一次。\n\nNeeds the admin scope. The full key "
                         "appears in this response only; the store keeps an scrypt hash of it.",
             responses=responses(400, 401, 403, 422))
def create_key(body: KeyCreate, store: StoreDep, _: AdminAccess) -> KeyCreated:
    record, secret = keys.create(store, name=body.name, scopes=list(body.scopes))
    return KeyCreated(**_read(record).model_dump(), key=secret)


@router.get("/keys", response_model=list[KeyRead], summary="密钥列表 List API keys",
            description="需要 admin 权限。Needs the admin scope; secrets are never shown.",
            responses=responses(401, 403))
def list_keys(store: StoreDep, _: AdminAccess) -> list[KeyRead]:
    return [_read(k) for k in keys.list_keys(store)]


@router.delete("/keys/{key_id}", response_model=KeyRead, summary="吊销密钥 Revoke an API key",
               description="需要 admin 权限；立即生效。Needs the admin scope; takes effect at once.",
               responses=responses(401, 403, 404, 422))
def revoke_key(store: StoreDep, _: AdminAccess,
               key_id: Annotated[str, Path(min_length=1, max_length=80, description="密钥编号 the key's id")],
               ) -> KeyRead:
    return _read(keys.revoke(store, key_id=key_id))
