"""Small builders for API tests."""

from __future__ import annotations

from typing import Any


def make_user(client, headers, email: str, **extra: Any) -> str:
    response = client.post("/users", json={"email": email, **extra}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def make_router(client, headers, user_ids, *, object_type: str = "contact",
                published: bool = True, **settings: Any) -> str:
    body = {"name": "Router", "object_type": object_type, "published": published,
            "settings": {"users": [{"user_id": u} for u in user_ids], **settings}}
    response = client.post("/routers", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def make_contact(client, headers, **fields: Any) -> str:
    response = client.post("/contacts", json={"fields": {"first_name": "Ada", **fields}},
                           headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def dispatch(client, headers, router_id: str, object_id: str):
    return client.post("/dispatch/router", json={"router_id": router_id,
                                                 "object_id": object_id}, headers=headers)
