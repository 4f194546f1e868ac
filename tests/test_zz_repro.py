import base64, json
import pytest
from tests.factories import register, key_headers, create_agent, PASSWORD
pytestmark = pytest.mark.both_databases

def cur(at, id_="x"):
    return base64.urlsafe_b64encode(json.dumps([at, id_]).encode()).decode().rstrip("=")

def test_repro(client, dialect):
    owner = register(client)
    h = key_headers(client, owner)
    agent = create_agent(client, h)
    s = client.post("/api/sessions", json={"agentId": agent["id"]}, headers=h).json()
    turns = f"/api/sessions/{s['id']}/turns"
    out = []
    def show(label, r):
        out.append(f"{dialect} {label}: {r.status_code} {r.text[:150]} | {r.headers.get('x-content-type-options')}")
    show("lone content", client.post(turns, content=b'{"role":"USER","content":"\\ud800"}', headers={**h, "content-type": "application/json"}))
    show("lone nested", client.post(turns, content=b'{"role":"TOOL","content":{"a":["\\udc00x"]}}', headers={**h, "content-type": "application/json"}))
    show("lone key", client.post(turns, content=b'{"role":"TOOL","content":{"\\ud800":1}}', headers={**h, "content-type": "application/json"}))
    show("raw surrogate bytes", client.post(turns, content=b'{"role":"USER","content":"\xed\xa0\x80"}', headers={**h, "content-type": "application/json"}))
    show("pair ok", client.post(turns, content=b'{"role":"USER","content":"\\ud83d\\ude00"}', headers={**h, "content-type": "application/json"}))
    show("inf", client.post(turns, content=b'{"role":"TOOL","content":[1e400, -1e400]}', headers={**h, "content-type": "application/json"}))
    show("NaN", client.post(turns, content=b'{"role":"TOOL","content":[NaN]}', headers={**h, "content-type": "application/json"}))
    show("bigint", client.post(turns, content=b'{"role":"TOOL","content":[' + b"9"*5000 + b']}', headers={**h, "content-type": "application/json"}))
    show("bigint2", client.post(turns, content=b'{"role":"TOOL","content":[' + b"9"*30 + b']}', headers={**h, "content-type": "application/json"}))
    show("latin1", client.post(turns, content='{"role":"USER","content":"café"}'.encode("latin-1"), headers={**h, "content-type": "application/json"}))
    show("agent lone", client.post("/api/agents", content=b'{"name":"a\\ud800","slug":"a"}', headers={**h, "content-type": "application/json"}))
    show("login utf16 nul", client.post("/api/auth/login", content=json.dumps({"email": "a\x00@x.com", "password": PASSWORD}).encode("utf-16"), headers={"content-type": "application/json"}))
    show("login utf32 nul", client.post("/api/auth/login", content=json.dumps({"email": "a\x00@x.com", "password": PASSWORD}).encode("utf-32-le"), headers={"content-type": "application/json"}))
    deep = {"role": "TOOL", "content": json.loads("[" * 40 + "]" * 40)}
    show("utf16 deep", client.post(turns, content=json.dumps(deep).encode("utf-16-le"), headers={**h, "content-type": "application/json"}))
    show("utf8 bom", client.post(turns, content=b"\xef\xbb\xbf" + json.dumps({"role":"USER","content":"x"}).encode(), headers={**h, "content-type": "application/json"}))
    for path in ["/api/agents", "/api/sessions", "/api/audit", "/api/org/keys"]:
        for at in ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2026-01-01T00:00:00+23:59"]:
            show(f"cursor {path} {at}", client.get(path, params={"cursor": cur(at)}, headers=owner.headers))
    show("audit since", client.get("/api/audit", params={"since": "0001-01-01T00:00:00+01:00"}, headers=owner.headers))
    show("key expiry", client.post("/api/org/keys", json={"name": "x", "expiresAt": "0001-01-01T00:00:00+01:00"}, headers=owner.headers))
    show("key expiry2", client.post("/api/org/keys", json={"name": "x", "expiresAt": "9999-12-31T23:59:59-01:00"}, headers=owner.headers))
    print("\n".join(out))
