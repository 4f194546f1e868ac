from fastapi.testclient import TestClient

from tests.factories import create_key, register


def test_a_registered_owner_reaches_me_with_a_jwt_and_with_a_key(client: TestClient) -> None:
    owner = register(client)
    assert client.get("/api/auth/me", headers=owner.headers).json()["authMethod"] == "jwt"
    key = create_key(client, owner)
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {key}"}).json()
    assert me["authMethod"] == "api_key"
    assert me["role"] == "OWNER"
