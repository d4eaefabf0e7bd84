#!/usr/bin/env python3
"""Writes the request half of every fixture case (headers.json + body file) from
the provider documents in shared/provider-docs, signing each with Python's own
hmac module: an implementation independent of hookgate's. expected.json is
written by `hookgate check --bless` and reviewed by hand.

Public-key and token schemes are signed with `cryptography` (Ed25519) and PyJWT
(Debian: apt install python3-cryptography python3-jwt).

Run from the repository root: /usr/bin/python3 scripts/make-fixtures.py
"""
import hashlib, hmac, json, os, base64, shutil
from urllib.parse import parse_qsl, urlencode

import jwt  # PyJWT
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

SECRET = b"hookgate-fixture-secret"
ROOT = "fixtures"

def compact(obj):
    # Node's JSON.stringify: no spaces, key order kept, non-ASCII kept.
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()

def pretty(obj):
    return (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode()

def sig(alg, body, enc="hex"):
    mac = hmac.new(SECRET, body, getattr(hashlib, alg)).digest()
    return mac.hex() if enc == "hex" else base64.b64encode(mac).decode()

# RFC 8032 section 7.1 TEST 1: a published key pair, so anyone can check the
# Ed25519 fixtures with any library (src/fixture.rs FIXTURE_ED25519_*).
ED25519 = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))

def case(provider, name, body, headers, ext="json", url=None):
    d = os.path.join(ROOT, provider, name)
    os.makedirs(d, exist_ok=True)
    if url is not None:
        with open(os.path.join(d, "url.txt"), "w") as f:
            f.write(url + "\n")
    for f in os.listdir(d):
        if f.startswith("body"):
            os.remove(os.path.join(d, f))
    with open(os.path.join(d, "body." + ext), "wb") as f:
        f.write(body)
    with open(os.path.join(d, "headers.json"), "w") as f:
        json.dump(headers, f, indent=2)
        f.write("\n")

# ---------------------------------------------------------------- Sahut
# Envelope assumed (NOTES.md): {id, event, created_at, data}.
def sahut(name, obj, enc="hex", prefix=""):
    body = pretty(obj)
    case("sahut", name, body, {"Content-Type": "application/json",
                               "X-Sahut-Signature": prefix + sig("sha256", body, enc)})

conv = {"id": "conv_8f2a1c", "status": "open",
        "channel": {"id": "ch_wa_01", "type": "whatsapp", "name": "WhatsApp Toko Budi"},
        "contact": {"id": "ct_5521", "name": "Siti Rahma", "phone": "+6281234567890"},
        "assignee": None, "labels": [], "created_at": "2026-03-02T08:15:00Z", "updated_at": "2026-03-02T08:15:00Z"}
sahut("message-created-incoming", {"id": "evt_01HSAHUT0001", "event": "message.created", "created_at": "2026-03-02T08:15:04Z",
      "data": {"id": "msg_a1b2c3", "type": "incoming", "content": "Halo, pesanan saya belum sampai",
               "sender": {"type": "contact", "id": "ct_5521", "name": "Siti Rahma"}, "attachments": [],
               "conversation_id": "conv_8f2a1c", "created_at": "2026-03-02T08:15:03Z"}})
sahut("message-created-outgoing-image", {"id": "evt_01HSAHUT0002", "event": "message.created", "created_at": "2026-03-02T08:16:10Z",
      "data": {"id": "msg_d4e5f6", "type": "outgoing", "content": "Ini bukti pengirimannya",
               "sender": {"type": "agent", "id": "ag_12", "name": "Dewi"},
               "attachments": [{"url": "https://files.sahut.id/att/resi.jpg", "content_type": "image/jpeg", "file_name": "resi.jpg"}],
               "conversation_id": "conv_8f2a1c", "created_at": "2026-03-02T08:16:09Z"}},
      enc="base64", prefix="sha256=")
sahut("message-created-activity", {"id": "evt_01HSAHUT0003", "event": "message.created", "created_at": "2026-03-02T08:16:30Z",
      "data": {"id": "msg_g7h8i9", "type": "activity", "content": "Conversation was assigned to Dewi",
               "conversation_id": "conv_8f2a1c", "created_at": "2026-03-02T08:16:30Z"}}, prefix="sha256=")
sahut("conversation-created", {"id": "evt_01HSAHUT0004", "event": "conversation.created", "created_at": "2026-03-02T08:15:00Z", "data": conv})
sahut("conversation-updated", {"id": "evt_01HSAHUT0005", "event": "conversation.updated", "created_at": "2026-03-02T08:16:30Z",
      "data": {**conv, "status": "pending", "assignee": {"id": "ag_12", "name": "Dewi"}, "labels": ["pengiriman", "vip"],
               "updated_at": "2026-03-02T08:16:30Z"}})
sahut("conversation-resolved", {"id": "evt_01HSAHUT0006", "event": "conversation.resolved", "created_at": "2026-03-02T09:00:00Z",
      "data": {**conv, "status": "resolved", "assignee": {"id": "ag_12", "name": "Dewi"}, "labels": ["pengiriman"],
               "updated_at": "2026-03-02T09:00:00Z"}})
sahut("contact-created", {"id": "evt_01HSAHUT0007", "event": "contact.created", "created_at": "2026-03-02T08:14:58Z",
      "data": {"id": "ct_5521", "name": "Siti Rahma", "email": None, "phone": "+6281234567890", "company": None,
               "tags": [], "custom_attributes": {}, "created_at": "2026-03-02T08:14:58Z"}})
sahut("contact-updated", {"id": "evt_01HSAHUT0008", "event": "contact.updated", "created_at": "2026-03-03T10:00:00Z",
      "data": {"id": "ct_5521", "name": "Siti Rahma", "email": "siti@example.co.id", "phone": "+6281234567890",
               "company": "Toko Siti", "tags": ["reseller"], "custom_attributes": {"kota": "Bandung"},
               "created_at": "2026-03-02T08:14:58Z"}})
sahut("unknown-event-type", {"id": "evt_01HSAHUT0009", "event": "conversation.deleted", "created_at": "2026-03-04T10:00:00Z",
      "data": {"id": "conv_8f2a1c"}})

# ---------------------------------------------------------------- OneRoute
doc_msg = {"event": "newMessage", "message": {"sender": {"name": "Message Sender", "authUser": False, "lastActivity": "2022-01-29T07:27:52.676Z"},
  "externalId": None, "content": "Hello World!", "contentType": "TEXT", "imageUrl": None, "videoUrl": None, "documentUrl": None,
  "audioUrl": None, "quoted_message_id": None, "conversation_id": "bf9d96d9-e495-489a-a22a-206b0ea44d90"},
  "conversation": {"id": "bf9d96d9-e495-489a-a22a-206b0ea44d90", "subject": None, "agent": None,
  "customer": {"name": "Customer name", "email": "customer@mail.com"}, "lastMessageAt": "2022-01-29T07:27:52.793Z",
  "status": "in-queue", "country": "NG", "read": False, "createdAt": "2022-01-29T07:18:58.172Z", "updatedAt": "2022-01-29T07:27:52.794Z",
  "agent_id": None, "Channel": {"id": "8bad2edc-2973-4cec-8f33-a17c54dc0686", "phone": None, "identifier": "Identifier",
  "medium": "WHATSAPP", "credentials": None, "description": "Whatsapp Channel", "name": "Channel name", "type": "CUSTOM",
  "provider": None, "country": "NG", "env": "LIVE", "status": "ACTIVE", "webhookUrl": "https://webhook.url"}}}
def oneroute(name, obj):
    body = compact(obj)
    case("oneroute", name, body, {"Content-Type": "application/json", "x-oneroute-signature": sig("sha512", body)})
oneroute("new-message", doc_msg)
agent_msg = json.loads(json.dumps(doc_msg))
agent_msg["message"].update({"sender": {"name": "Ada Agent", "authUser": True, "lastActivity": "2022-01-29T07:30:00.000Z"},
    "externalId": "wamid.HBgNMjM0ODA", "content": "Here is your invoice", "contentType": "IMAGE",
    "imageUrl": "https://cdn.oneroute.io/media/invoice.png", "quoted_message_id": "5d1e2b7a-0c44-4c0e-9c55-2f4e6b7d8a90"})
agent_msg["conversation"].update({"agent": {"id": "1f0c3a9e-7b51-4d1e-8f5a-3c2b1a0d9e8f", "name": "Ada Agent"},
    "agent_id": "1f0c3a9e-7b51-4d1e-8f5a-3c2b1a0d9e8f", "status": "open", "lastMessageAt": "2022-01-29T07:30:00.120Z"})
oneroute("new-message-agent-image", agent_msg)

# ---------------------------------------------------------------- Magalu SAC (unsigned)
def magalu(name, body):
    case("magalu-sac", name, body, {"Content-Type": "application/json"})
T = "debde69a-2dbb-427b-b478-6cffd7930ecf"; M = "39697476-cbc3-4154-bf43-165464f66197"; TEN = "3b5cf468-c858-404b-9e53-630e3df9d74a"
for status in ["CREATION", "UPDATE", "DELETION"]:
    magalu("ticket-" + status.lower(), pretty({"data": {"status": status, "params": {"id": T}, "resource": "/v0/tickets/" + T},
                                               "tenant_id": TEN, "topic": "sac_ticket"}))
    magalu("message-" + status.lower(), pretty({"data": {"status": status, "params": {"ticket_id": T, "id": M},
                                                "resource": "/v0/tickets/%s/messages/%s" % (T, M)}, "tenant_id": TEN, "topic": "sac_message"}))
# Exactly as the table in the document prints it: a trailing comma, invalid JSON.
magalu("documented-example-trailing-comma", ('{\n  "data": {\n    "status": "CREATION",\n    "params": {\n      "id": "%s",\n    },\n'
        '    "resource": "/v0/tickets/%s"\n  },\n  "tenant_id": "%s",\n  "topic": "sac_ticket"\n}\n' % (T, T, TEN)).encode())

# ---------------------------------------------------------------- AIsoule
def aisoule(name, obj, dev=False):
    body = compact(obj)
    h = {"Content-Type": "application/json"}
    if dev:
        h["X-AISoule-Signature"] = "sha256=" + sig("sha256", body)
    else:
        h["X-Webhook-Signature"] = sig("sha256", body)
    case("aisoule", name, body, h)
WA = "8c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
aisoule("message-incoming", {"event": "message.incoming", "timestamp": "2026-05-29T10:30:00Z",
        "data": {"message_id": "wamid.xxx", "from": "+919876543210", "contact_name": "John Doe", "type": "text",
                 "text": "Hello, I need help with my order", "whatsapp_account_id": "uuid"}})
aisoule("message-received-developer-variant", {"event": "message.received", "timestamp": 1780050600,
        "data": {"message_id": "wamid.HBgMOTE5ODc2NTQzMjEwFQ", "waba_number": "+14155550100", "sender": "+919876543210",
                 "recipient": "+14155550100", "type": "text", "body": "Is my order shipped?"}}, dev=True)
for st, extra in [("sent", {}), ("delivered", {}), ("read", {}),
                  ("failed", {"error": {"code": 131026, "message": "Message undeliverable"}})]:
    aisoule("message-" + st, {"event": "message." + st, "timestamp": "2026-05-29T10:31:00Z",
            "data": {"message_id": "wamid.OUT123", "to": "+919876543210", "status": st,
                     "whatsapp_account_id": WA, **extra}})
aisoule("message-delivered-developer-variant", {"event": "message.delivered", "timestamp": 1780050700,
        "data": {"message_id": "wamid.OUT456", "waba_number": "+14155550100", "sender": "+14155550100",
                 "recipient": "+919876543210", "status": "delivered"}}, dev=True)
aisoule("contact-created", {"event": "contact.created", "timestamp": "2026-05-29T10:29:00Z",
        "data": {"contact_id": "c0a8012e-0001", "name": "John Doe", "phone": "+919876543210", "whatsapp_account_id": WA}})
aisoule("contact-updated", {"event": "contact.updated", "timestamp": "2026-05-30T09:00:00Z",
        "data": {"contact_id": "c0a8012e-0001", "name": "John D.", "phone": "+919876543210", "email": "john@example.com",
                 "tags": ["vip"], "whatsapp_account_id": WA}})
aisoule("campaign-completed", {"event": "campaign.completed", "timestamp": "2026-05-29T12:00:00Z",
        "data": {"campaign_id": "cmp_42", "campaign_name": "Monsoon sale", "sent": 1200, "delivered": 1150, "read": 800,
                 "failed": 50, "whatsapp_account_id": WA}})
aisoule("transfer-created", {"event": "transfer.created", "timestamp": "2026-05-29T10:35:00Z",
        "data": {"transfer_id": "tr_77", "conversation_id": "cv_901", "from": "+919876543210", "contact_name": "John Doe",
                 "from_agent_name": "AI Assistant", "to_agent_id": "ag_3", "to_agent_name": "Priya", "whatsapp_account_id": WA}})
aisoule("ping", {"event": "ping"})
aisoule("unknown-event-type", {"event": "template.approved", "timestamp": "2026-05-29T10:00:00Z", "data": {"template_id": "t1"}})

# ---------------------------------------------------------------- Savanto
def savanto(name, obj):
    body = pretty(obj)
    case("savanto", name, body, {"Content-Type": "application/json", "X-Webhook-Signature": "sha256=" + sig("sha256", body)})
prod = {"id": "product-123", "name": "Wireless Headphones", "price": 199.99, "categories": ["Electronics", "Audio"]}
savanto("product-created", {"id": "evt_abc123", "event_type": "product.created", "created_at": "2026-01-15T10:30:00Z", "data": prod})
savanto("product-updated", {"id": "evt_abc124", "event_type": "product.updated", "created_at": "2026-01-15T11:00:00Z", "data": {**prod, "price": 179.99}})
savanto("product-deleted", {"id": "evt_abc125", "event_type": "product.deleted", "created_at": "2026-01-16T09:00:00Z", "data": {"id": "product-123"}})
post = {"id": "post-9", "title": "Returns & Exchanges"}
savanto("post-created", {"id": "evt_post1", "event_type": "post.created", "created_at": "2026-01-15T10:30:00Z", "data": post})
savanto("post-updated", {"id": "evt_post2", "event_type": "post.updated", "created_at": "2026-01-15T12:30:00Z", "data": {**post, "title": "Returns, Exchanges & Refunds"}})
savanto("post-deleted", {"id": "evt_post3", "event_type": "post.deleted", "created_at": "2026-01-17T08:00:00Z", "data": {"id": "post-9"}})
savanto("chat-message-sent", {"id": "evt_chat_xyz", "event_type": "chat.message_sent", "created_at": "2026-01-15T10:30:00Z",
  "data": {"userId": "user-42", "responseType": "structured", "streaming": True, "hasProducts": True, "hasPosts": True, "hasPrompts": True,
    "productCount": 3, "postCount": 1, "promptCount": 4, "turnCount": 2, "finished": True, "degraded": False, "workspaceId": "ws_abc",
    "promptId": None, "responseMessage": {"intro": "Here are some jackets that match your size and style, plus our return policy...",
      "products": [{"id": "p-1", "name": "Wool Overcoat"}], "posts": [{"id": "post-9", "title": "Returns & Exchanges"}],
      "respondedBy": ["product", "post"], "composedBlocks": [{"type": "text"}, {"type": "products", "domain": "product", "ids": ["p-1", "p-2", "p-3"]},
      {"type": "text"}, {"type": "posts", "domain": "post", "ids": ["post-9"]}]}, "timestamp": "2026-01-15T10:30:00Z"}})
savanto("chat-conversation-started", {"id": "evt_conv1", "event_type": "chat.conversation_started", "created_at": "2026-01-15T10:29:00Z",
  "data": {"threadId": "web_1234567890_abc", "userId": "user-42", "workspaceId": "ws_abc"}})
savanto("feedback-submitted", {"id": "evt_fb1", "event_type": "feedback.submitted", "created_at": "2026-01-15T10:35:00Z",
  "data": {"rating": "positive", "comment": "Very helpful", "messageId": "msg-77", "threadId": "web_1234567890_abc", "contentId": "p-1"}})
for kind, t in [("requested", "2026-01-15T18:40:00Z"), ("accepted", "2026-01-15T18:41:00Z"), ("resolved", "2026-01-15T19:00:00Z")]:
    d = {"thread_id": "web_1234567890_abc", "userId": "user-42"}
    if kind != "requested":
        d.update({"agentId": "agent-7", "agentName": "Maria"})
    savanto("handoff-" + kind, {"id": "evt_ho_" + kind, "event_type": "handoff." + kind, "created_at": t, "data": d})
savanto("contact-submitted", {"id": "evt_ghi789", "event_type": "contact.submitted", "created_at": "2026-01-15T18:45:00Z",
  "data": {"thread_id": "web_1234567890_abc", "name": "Jane Doe", "email": "jane@example.com", "phone": "+1-555-123-4567",
           "message": "I need help with my recent order #12345"}})

# ================================================================ issue 5 catalog
# Timestamped schemes are signed at the fixture instant, 2026-01-01T00:00:00Z, which
# is also the clock fixtures are verified against.
TS = 1767225600
ISO = "2026-01-01T00:00:00Z"

def github(name, event, obj, delivery):
    body = pretty(obj)
    case("github", name, body, {"Content-Type": "application/json", "X-GitHub-Event": event,
         "X-GitHub-Delivery": delivery, "X-Hub-Signature-256": "sha256=" + sig("sha256", body)})
repo = {"id": 1296269, "full_name": "octocat/Hello-World"}
issue = {"id": 1, "node_id": "MDU6SXNzdWUx", "number": 1347, "title": "Found a bug", "state": "open",
         "html_url": "https://github.com/octocat/Hello-World/issues/1347", "user": {"login": "octocat", "id": 1},
         "updated_at": "2026-01-01T00:00:00Z"}
github("issues-opened", "issues", {"action": "opened", "issue": issue, "repository": repo, "sender": {"login": "octocat"}},
       "72d3162e-cc78-11e3-81ab-4c9367dc0958")
github("issues-closed", "issues", {"action": "closed", "issue": {**issue, "state": "closed"}, "repository": repo},
       "72d3162e-cc78-11e3-81ab-4c9367dc0959")
github("issue-comment-created", "issue_comment", {"action": "created", "issue": issue, "repository": repo,
       "comment": {"id": 1362, "body": "Me too", "user": {"login": "hubot", "id": 2}, "created_at": "2026-01-01T00:00:00Z",
                   "updated_at": "2026-01-01T00:00:00Z"}}, "72d3162e-cc78-11e3-81ab-4c9367dc0960")
github("ping", "ping", {"zen": "Design for failure.", "hook_id": 42}, "72d3162e-cc78-11e3-81ab-4c9367dc0961")
github("push-is-dead-lettered", "push", {"ref": "refs/heads/main", "repository": repo}, "72d3162e-cc78-11e3-81ab-4c9367dc0962")

def meta(provider, name, obj):
    body = compact(obj)
    case(provider, name, body, {"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + sig("sha256", body)})
def wa(value):
    return {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"}, **value}}]}]}
meta("whatsapp-cloud", "inbound-text", wa({"contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}],
     "messages": [{"from": "16505551234", "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
                   "timestamp": "1767225600", "text": {"body": "Does it come in another color?"}, "type": "text"}]}))
meta("whatsapp-cloud", "inbound-image", wa({"contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}],
     "messages": [{"from": "16505551234", "id": "wamid.IMG1", "timestamp": "1767225601", "type": "image",
                   "image": {"caption": "This one", "mime_type": "image/jpeg", "sha256": "abc", "id": "1003383421387256"}}]}))
for st in ["sent", "delivered", "read"]:
    meta("whatsapp-cloud", "status-" + st, wa({"statuses": [{"id": "wamid.OUT1", "status": st, "timestamp": "1767225610",
         "recipient_id": "16505551234"}]}))
meta("whatsapp-cloud", "status-failed", wa({"statuses": [{"id": "wamid.OUT2", "status": "failed", "timestamp": "1767225611",
     "recipient_id": "16505551234", "errors": [{"code": 131047, "title": "Re-engagement message"}]}]}))
shutil.rmtree(os.path.join(ROOT, "whatsapp-cloud", "batch-is-dead-lettered"), ignore_errors=True)
# Meta publishes no multi-update example; this one is built from its documented
# values: two messages in one change, sent/delivered/read of one wamid in another.
WA_VALUE = {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"}}
meta("whatsapp-cloud", "batch-messages-and-statuses", {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [
     {"value": {**WA_VALUE, "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}], "messages": [
         {"from": "16505551234", "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=", "timestamp": "1767225600",
          "type": "text", "text": {"body": "Does it come in another color?"}},
         {"from": "16505551234", "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUQ0N0VFMDA2MTQ0RkJFNkNDNAA=", "timestamp": "1767225601",
          "type": "text", "text": {"body": "Can I get more info about this?"}}]}, "field": "messages"},
     {"value": {**WA_VALUE, "statuses": [
         {"id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=", "status": st, "timestamp": str(1767225602 + i),
          "recipient_id": "16505551234"} for i, st in enumerate(["sent", "delivered", "read"])]}, "field": "messages"}]}]})
# An account's template review arrives in the same webhook: no canonical type yet.
meta("whatsapp-cloud", "batch-with-template-update", {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "time": 1767225600,
     "changes": [{"value": {"event": "APPROVED", "message_template_id": 12345678, "message_template_name": "order_update",
                            "message_template_language": "en_US", "reason": "NONE"}, "field": "message_template_status_update"},
                 {"value": {**WA_VALUE, "statuses": [{"id": "wamid.OUT3", "status": "delivered", "timestamp": "1767225603",
                            "recipient_id": "16505551234"}]}, "field": "messages"}]}]})
meta("whatsapp-cloud", "empty-batch", {"object": "whatsapp_business_account", "entry": []})

SLACK = "8f742231b10e8888abcd99yyyzzz85a5"
def slack(name, obj):
    body = compact(obj)
    mac = hmac.new(SECRET, b"v0:%d:" % TS + body, hashlib.sha256).hexdigest()
    case("slack", name, body, {"Content-Type": "application/json", "X-Slack-Request-Timestamp": str(TS), "X-Slack-Signature": "v0=" + mac})
slack("url-verification", {"token": "Jhj5dZrVaK7ZwHHjRyZWjbDl", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
      "type": "url_verification"})
def slack_event(eid, event):
    return {"token": "XXYYZZ", "team_id": "T123ABC456", "api_app_id": "A123ABC456", "event": event, "type": "event_callback",
            "event_id": eid, "event_time": TS}
slack("message", slack_event("Ev0PV52K21", {"type": "message", "channel": "C123ABC456", "user": "U123ABC456",
      "text": "Hello world", "ts": "1767225600.000200", "channel_type": "channel", "client_msg_id": "b7a1c1e0-0000-4000-8000-000000000001"}))
slack("message-in-thread-from-bot", slack_event("Ev0PV52K22", {"type": "message", "subtype": "bot_message", "channel": "C123ABC456",
      "bot_id": "B123", "text": "Ticket created", "ts": "1767225601.000300", "thread_ts": "1767225600.000200", "channel_type": "channel"}))
slack("message-changed", slack_event("Ev0PV52K23", {"type": "message", "subtype": "message_changed", "channel": "C123ABC456",
      "message": {"type": "message", "user": "U123ABC456", "text": "Hello world!", "ts": "1767225600.000200",
                  "client_msg_id": "b7a1c1e0-0000-4000-8000-000000000001"}, "ts": "1767225602.000400"}))
slack("message-deleted", slack_event("Ev0PV52K24", {"type": "message", "subtype": "message_deleted", "channel": "C123ABC456",
      "deleted_ts": "1767225600.000200", "ts": "1767225603.000500"}))
slack("reaction-is-dead-lettered", slack_event("Ev0PV52K25", {"type": "reaction_added", "user": "U1", "reaction": "thumbsup",
      "item": {"type": "message", "channel": "C123ABC456", "ts": "1767225600.000200"}}))

def zendesk(name, obj):
    body = compact(obj)
    mac = base64.b64encode(hmac.new(SECRET, ISO.encode() + body, hashlib.sha256).digest()).decode()
    case("zendesk", name, body, {"Content-Type": "application/json", "X-Zendesk-Webhook-Signature-Timestamp": ISO,
         "X-Zendesk-Webhook-Signature": mac})
detail = {"id": "35436", "subject": "Help, my printer is on fire!", "status": "NEW", "priority": "HIGH", "requester_id": "20978392",
          "assignee_id": None}
def zen(eid, t, event, d=detail):
    return {"account_id": 22129848, "detail": d, "event": event, "id": eid, "subdomain": "acme", "time": "2026-01-01T00:00:00Z",
            "type": "zen:event-type:" + t, "zendesk_event_version": "2022-11-06"}
zendesk("ticket-created", zen("cbe4028c-7239-495d-b020-f22348516046", "ticket.created", {"meta": {"version": "1.0"}}))
zendesk("ticket-status-changed", zen("cbe4028c-7239-495d-b020-f22348516047", "ticket.status_changed",
        {"current": "OPEN", "previous": "NEW"}, {**detail, "status": "OPEN"}))
zendesk("ticket-comment-added", zen("cbe4028c-7239-495d-b020-f22348516048", "ticket.comment_added",
        {"comment": {"id": "4551", "body": "Please unplug it.", "is_public": True, "author": {"id": "1900", "name": "Agent Smith",
         "is_staff": True}}}))

def intercom(name, obj):
    body = compact(obj)
    case("intercom", name, body, {"Content-Type": "application/json", "X-Hub-Signature": "sha1=" + sig("sha1", body)})
conv = {"type": "conversation", "id": "147", "state": "open", "title": None,
        "source": {"type": "conversation", "id": "403918320", "subject": "", "body": "<p>Hi, where is my order?</p>",
                   "author": {"type": "user", "id": "5f7f0d217289f8d2f4262080", "name": "Ciaran", "email": "ciaran@example.com"}},
        "conversation_parts": {"type": "conversation_part.list", "conversation_parts": []}}
def notif(nid, topic, item):
    return {"type": "notification_event", "app_id": "ecahpwf5", "data": {"type": "notification_event_data", "item": item},
            "topic": topic, "id": nid, "created_at": TS}
intercom("conversation-user-created", notif("notif_1", "conversation.user.created", conv))
intercom("conversation-user-replied", notif("notif_2", "conversation.user.replied", {**conv, "conversation_parts": {
    "type": "conversation_part.list", "conversation_parts": [{"type": "conversation_part", "id": "9001", "part_type": "comment",
    "body": "<p>Any news?</p>", "author": {"type": "user", "id": "5f7f0d217289f8d2f4262080", "name": "Ciaran"}}]}}))
intercom("conversation-admin-replied", notif("notif_3", "conversation.admin.replied", {**conv, "conversation_parts": {
    "type": "conversation_part.list", "conversation_parts": [{"type": "conversation_part", "id": "9002", "part_type": "comment",
    "body": "<p>It ships today.</p>", "author": {"type": "admin", "id": "814860", "name": "Brian"}}]}}))
intercom("conversation-admin-closed", notif("notif_4", "conversation.admin.closed", {**conv, "state": "closed"}))
intercom("ping", {"type": "notification_event", "topic": "ping", "id": "notif_5", "created_at": TS, "data": {"item": {"type": "ping"}}})

def shopify(name, topic, obj, eid):
    body = compact(obj)
    case("shopify", name, body, {"Content-Type": "application/json", "X-Shopify-Topic": topic, "X-Shopify-Shop-Domain": "acme.myshopify.com",
         "X-Shopify-Event-Id": eid, "X-Shopify-Triggered-At": "2026-01-01T00:00:00Z",
         "X-Shopify-Hmac-Sha256": base64.b64encode(hmac.new(SECRET, body, hashlib.sha256).digest()).decode()})
cust = {"id": 706405506930370084, "email": "bob@example.com", "first_name": "Bob", "last_name": "Norman", "phone": "+16136120707",
        "tags": "vip, newsletter", "updated_at": "2026-01-01T00:00:00-05:00"}
shopify("customers-create", "customers/create", cust, "98880550-7158-44d4-b7cd-2c97c8a091b5")
shopify("customers-update", "customers/update", {**cust, "email": "bob.norman@example.com"}, "98880550-7158-44d4-b7cd-2c97c8a091b6")
# Trimmed from Shopify's documented orders/create example (its sample ids): what
# tells an order from a customer is what `requires` checks (line_items, order_number).
order = {"id": 820982911946154508, "email": "jon@example.com", "created_at": "2026-01-01T00:00:00-05:00",
         "updated_at": "2026-01-01T00:00:00-05:00", "number": 234, "order_number": 1234, "currency": "USD",
         "total_price": "403.00", "financial_status": "voided",
         "line_items": [{"id": 866550311766439020, "product_id": 632910392, "title": "IPod Nano - 8GB",
                         "quantity": 1, "price": "199.00", "sku": "IPOD2008PINK"}],
         "customer": {"id": 115310627314723954, "email": "john@example.com", "first_name": "John", "last_name": "Smith"}}
shopify("orders-create-is-dead-lettered", "orders/create", order, "98880550-7158-44d4-b7cd-2c97c8a091b7")

def stripe(name, obj):
    body = compact(obj)
    mac = hmac.new(SECRET, b"%d." % TS + body, hashlib.sha256).hexdigest()
    case("stripe", name, body, {"Content-Type": "application/json", "Stripe-Signature": "t=%d,v1=%s" % (TS, mac)})
scust = {"id": "cus_NffrFeUfNV2Hib", "object": "customer", "email": "jennyrosen@example.com", "name": "Jenny Rosen",
         "phone": None, "address": {"country": "US"}}
stripe("customer-created", {"id": "evt_1NG8Du2eZvKYlo2CUI79vXWy", "object": "event", "type": "customer.created", "created": TS,
       "data": {"object": scust}})
stripe("customer-updated", {"id": "evt_1NG8Du2eZvKYlo2CUI79vXWz", "object": "event", "type": "customer.updated", "created": TS,
       "data": {"object": {**scust, "phone": "+15555550123"}}})
stripe("charge-is-dead-lettered", {"id": "evt_3", "object": "event", "type": "charge.succeeded", "created": TS,
       "data": {"object": {"id": "ch_1", "object": "charge"}}})

def stdwh(name, obj, mid):
    body = compact(obj)
    mac = base64.b64encode(hmac.new(SECRET, b"%s.%d." % (mid.encode(), TS) + body, hashlib.sha256).digest()).decode()
    case("standard-webhooks", name, body, {"Content-Type": "application/json", "webhook-id": mid, "webhook-timestamp": str(TS),
         "webhook-signature": "v1," + mac})
stdwh("message-created", {"type": "message.created", "timestamp": "2026-01-01T00:00:00Z", "data": {"message": {"id": "m1",
      "conversation_id": "c1", "direction": "inbound", "sender": {"type": "customer", "id": "u1"}, "content": {"type": "text", "text": "hi"}}}},
      "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W")
stdwh("schema-violation-is-dead-lettered", {"type": "message.created", "timestamp": "2026-01-01T00:00:00Z",
      "data": {"message": {"id": "m2", "direction": "sideways"}}}, "msg_2KWPBgLlAfxdpx2AI54pPJ85f4X")

def telegram(name, obj):
    body = compact(obj)
    case("telegram", name, body, {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET.decode()})
chat = {"id": 1111111, "first_name": "Ada", "last_name": "Lovelace", "type": "private"}
frm = {"id": 1111111, "is_bot": False, "first_name": "Ada", "last_name": "Lovelace", "language_code": "en"}
telegram("message", {"update_id": 10000, "message": {"message_id": 1365, "from": frm, "chat": chat, "date": TS, "text": "/start"}})
telegram("edited-message", {"update_id": 10001, "edited_message": {"message_id": 1365, "from": frm, "chat": chat, "date": TS,
         "edit_date": TS + 5, "text": "/help"}})
telegram("callback-query-is-dead-lettered", {"update_id": 10002, "callback_query": {"id": "4382bfdwdsb323b2d9", "from": frm, "data": "ok"}})
# The remaining documented types and aliases, one case each.
github("issues-edited", "issues", {"action": "edited", "issue": {**issue, "title": "Found a bug (printer)"}, "repository": repo},
       "72d3162e-cc78-11e3-81ab-4c9367dc0963")
github("issues-reopened", "issues", {"action": "reopened", "issue": issue, "repository": repo}, "72d3162e-cc78-11e3-81ab-4c9367dc0964")
slack("message-file-share", slack_event("Ev0PV52K26", {"type": "message", "subtype": "file_share", "channel": "C123ABC456",
      "user": "U123ABC456", "text": "screenshot", "ts": "1767225604.000600", "channel_type": "channel"}))
slack("message-me-message", slack_event("Ev0PV52K27", {"type": "message", "subtype": "me_message", "channel": "C123ABC456",
      "user": "U123ABC456", "text": "waves", "ts": "1767225605.000700", "channel_type": "channel"}))
slack("message-thread-broadcast", slack_event("Ev0PV52K28", {"type": "message", "subtype": "thread_broadcast", "channel": "C123ABC456",
      "user": "U123ABC456", "text": "Resolved, see thread", "ts": "1767225606.000800", "thread_ts": "1767225600.000200",
      "channel_type": "channel"}))
zendesk("ticket-priority-changed", zen("cbe4028c-7239-495d-b020-f22348516049", "ticket.priority_changed",
        {"current": "URGENT", "previous": "HIGH"}, {**detail, "status": "OPEN", "priority": "URGENT"}))
for i, (t, d) in enumerate([
        ("message.updated", {"message": {"id": "m1", "conversation_id": "c1", "content": {"type": "text", "text": "hi!"}}}),
        ("conversation.created", {"conversation": {"id": "c1", "status": "open", "channel": {"type": "web"}}}),
        ("conversation.resolved", {"conversation": {"id": "c1", "status": "resolved"}}),
        ("contact.created", {"contact": {"id": "u1", "name": "Ada", "email": "ada@example.com"}}),
        ("ticket.created", {"ticket": {"id": "t1", "status": "new"}})]):
    stdwh(t.replace(".", "-"), {"type": t, "timestamp": "2026-01-01T00:00:00Z", "data": d}, "msg_2KWPBgLlAfxdpx2AI54pPJ86%02d" % i)

# ---------------------------------------------------------------- Messenger / Instagram
# The documented messaging[] items (docs placeholders <PSID>, <PAGE_ID> filled in).
PSID, PAGE, IGSID, IGID = "6783458910123456", "107295998714357", "1735112353546245", "17841405822304914"
def fb(entries, obj="page"):
    return {"object": obj, "entry": entries}
meta("messenger", "text", fb([{"id": PAGE, "time": 1767225600123, "messaging": [
     {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 1767225600000,
      "message": {"mid": "mid.1457764197618:41d102a3e1ae206a38", "text": "hello, world!"}}]}]))
meta("messenger", "attachment-image", fb([{"id": PAGE, "time": 1767225600123, "messaging": [
     {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 1767225600000,
      "message": {"mid": "mid.$cAAJdkrCd2ORnva8ErFhjGm0X_Q_c", "attachments": [
          {"type": "image", "payload": {"url": "https://scontent.xx.fbcdn.net/v/t1.15752-9/image.png"}}]}}]}]))
meta("messenger", "batch-quick-reply-postback-delivery-read", fb([{"id": PAGE, "time": 1767225600123, "messaging": [
     {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 1767225600000,
      "message": {"mid": "mid.1457764197618:41d102a3e1ae206a39", "text": "hello, world!",
                  "quick_reply": {"payload": "DEVELOPER_DEFINED_PAYLOAD"}}},
     {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 1767225601000,
      "postback": {"title": "Track my order", "payload": "TRACK_ORDER"}},
     {"sender": {"id": PSID}, "recipient": {"id": PAGE},
      "delivery": {"mids": ["mid.1458668856218:ed81099e15d3f4f233"], "watermark": 1767225602000}},
     {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 1767225603000, "read": {"watermark": 1767225602000}}]}]))
meta("messenger", "echo", fb([{"id": PAGE, "time": 1767225600123, "messaging": [
     {"sender": {"id": PAGE}, "recipient": {"id": PSID}, "timestamp": 1767225604000,
      "message": {"is_echo": True, "app_id": 1517776481860111, "mid": "mid.1457764197618:41d102a3e1ae206a40", "text": "It ships today."}}]}]))
meta("messenger", "instagram-text-and-seen", fb([{"id": IGID, "time": 1767225600123, "messaging": [
     {"sender": {"id": IGSID}, "recipient": {"id": IGID}, "timestamp": 1767225600000,
      "message": {"mid": "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1", "text": "Is this still available?"}},
     {"sender": {"id": IGSID}, "recipient": {"id": IGID}, "timestamp": 1767225605000,
      "read": {"mid": "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA2"}}]}], "instagram"))
meta("messenger", "instagram-unsend", fb([{"id": IGID, "time": 1767225600123, "messaging": [
     {"sender": {"id": IGSID}, "recipient": {"id": IGID}, "timestamp": 1767225607000,
      "message": {"mid": "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1", "is_deleted": True}}]}], "instagram"))
meta("messenger", "reaction-is-dead-lettered", fb([{"id": PAGE, "time": 1767225600123, "messaging": [
     {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 1767225606000,
      "reaction": {"mid": "mid.1457764197618:41d102a3e1ae206a38", "action": "react", "reaction": "love", "emoji": "\u2764"}}]}]))

# ---------------------------------------------------------------- LINE
def line(name, obj, raw=None):
    body = raw if raw is not None else compact(obj)
    case("line", name, body, {"Content-Type": "application/json; charset=utf-8", "x-line-signature": sig("sha256", body, "base64")})
LINE_DEST = "U6f4ee8d4bca7bc1fd0c19dd3b8d9a01e"
def line_ev(eid, ts, ev):
    return {**ev, "timestamp": ts, "mode": "active", "webhookEventId": eid, "deliveryContext": {"isRedelivery": False}}
# The documented example: a message, a follow and an unfollow in one delivery.
line("batch-message-follow-unfollow", {"destination": LINE_DEST, "events": [
     line_ev("01FZ74A0TDDPYRVKNK77XKC3ZR", 1767225600211, {"type": "message", "message": {"type": "text", "id": "14353798921116",
             "text": "Hello, world"}, "source": {"type": "user", "userId": "U80696558e1aa831a2d7b6c3e11f1e0b1"},
             "replyToken": "757913772c4646b784d4b7ce46d12671"}),
     line_ev("01FZ74ASS536FW97EX38NKCZQK", 1767225600214, {"type": "follow", "follow": {"isUnblocked": False},
             "source": {"type": "user", "userId": "Ufc729a925b3abef2b3e1e5ae6e1ea8f1"}, "replyToken": "bb173f4d9cf64aed9d408ab4e36339ad"}),
     line_ev("01FZ74B5Y0F4TNKA5SCAVKPEDM", 1767225600215, {"type": "unfollow",
             "source": {"type": "user", "userId": "Ubbd4f124aee5113a6d1f1e8e0a7a6d2c"}})]})
line("message-image", {"destination": LINE_DEST, "events": [line_ev("01FZ74A0TDDPYRVKNK77XKC3ZS", 1767225601513, {"type": "message",
     "message": {"type": "image", "id": "354718705033693859", "quoteToken": "q3Plxr4AgKd", "contentProvider": {"type": "line"},
                 "imageSet": {"id": "E005D41A7288F41B65593ED38FF6E9834B046AB36A37921A56BC236F13A91855", "index": 1, "total": 2}},
     "source": {"type": "user", "userId": "U4af4980629a1b2c3d4e5f60718293a4b"}, "replyToken": "7840b71058e24a5d91f9b5726c7512c9"})]})
line("message-sticker-in-group", {"destination": LINE_DEST, "events": [line_ev("01FZ74A0TDDPYRVKNK77XKC3ZT", 1767225602000, {"type": "message",
     "message": {"type": "sticker", "id": "1501597916", "quoteToken": "q3Plxr4AgKe", "stickerId": "52002738", "packageId": "11537",
                 "stickerResourceType": "ANIMATION", "keywords": ["cony", "sally"]},
     "source": {"type": "group", "groupId": "Ca56f94637c4a1b2c3d4e5f60718293a4", "userId": "U4af4980629a1b2c3d4e5f60718293a4b"},
     "replyToken": "8840b71058e24a5d91f9b5726c7512c9"})]})
line("postback-datetime", {"destination": LINE_DEST, "events": [line_ev("01FZ74A0TDDPYRVKNK77XKC3ZV", 1767225603317, {"type": "postback",
     "source": {"type": "user", "userId": "U91eeaf62d9a1b2c3d4e5f60718293a4b"}, "replyToken": "b60d432864f44d079f6d8efe86cf404b",
     "postback": {"data": "storeId=12345", "params": {"datetime": "2017-12-25T01:00"}}})]})
line("unsend", {"destination": LINE_DEST, "events": [line_ev("01FZ74A0TDDPYRVKNK77XKC3ZW", 1767225604000, {"type": "unsend",
     "source": {"type": "user", "userId": "U4af4980629a1b2c3d4e5f60718293a4b"}, "unsend": {"messageId": "325708"}})]})
# The console's "Verify" request: no events, answered 200, nothing written.
line("verify-empty-events", {"destination": LINE_DEST, "events": []})

# ---------------------------------------------------------------- Twilio
# Twilio signs the URL it requested followed by each form field, sorted by name,
# as name+value (twilio-python RequestValidator.compute_signature).
TWILIO_URL = "https://hooks.example.com/hooks/twilio"
def twilio(name, fields):
    body = urlencode(fields).encode()
    params = parse_qsl(body.decode(), keep_blank_values=True)
    signed = TWILIO_URL
    for k in sorted(set(k for k, _ in params)):
        for v in sorted(set(v for kk, v in params if kk == k)):
            signed += k + v
    mac = base64.b64encode(hmac.new(SECRET, signed.encode(), hashlib.sha1).digest()).decode()
    case("twilio", name, body, {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": mac,
         "I-Twilio-Idempotency-Token": "%s-%s" % (name, fields.get("MessageSid", ""))}, ext="form", url=TWILIO_URL)
ACC = "ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
twilio("inbound-sms", {"ToCountry": "US", "ToState": "CA", "SmsMessageSid": "SM1342fe1b2c904d1ab04f0fc7a58abca9", "NumMedia": "0",
       "ToCity": "SAN FRANCISCO", "FromZip": "94105", "SmsSid": "SM1342fe1b2c904d1ab04f0fc7a58abca9", "FromState": "CA",
       "SmsStatus": "received", "FromCity": "SAN FRANCISCO", "Body": "Hello from SMS", "FromCountry": "US", "To": "+15017250604",
       "MessagingServiceSid": "MG9752274e9e519418a7406176694466fa", "ToZip": "94105", "NumSegments": "1",
       "MessageSid": "SM1342fe1b2c904d1ab04f0fc7a58abca9", "AccountSid": ACC, "From": "+15558675310", "ApiVersion": "2010-04-01"})
twilio("inbound-whatsapp-image", {"SmsMessageSid": "MMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "NumMedia": "1", "ProfileName": "Sheena Nelson",
       "MessageType": "image", "SmsSid": "MMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "WaId": "16505551234", "SmsStatus": "received",
       "Body": "Does it come in another color?", "To": "whatsapp:+14155238886", "NumSegments": "1", "ReferralNumMedia": "0",
       "MessageSid": "MMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "AccountSid": ACC, "From": "whatsapp:+16505551234",
       "MediaContentType0": "image/jpeg", "MediaUrl0": "https://api.twilio.com/2010-04-01/Accounts/%s/Messages/MMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Media/MEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" % ACC,
       "ApiVersion": "2010-04-01"})
# Only the parameters Twilio's incoming-message page documents (no SmsStatus, no
# geographic fields): classified as received because it has no MessageStatus.
twilio("inbound-sms-documented-parameters-only", {"MessageSid": "SM2342fe1b2c904d1ab04f0fc7a58abcb0",
       "SmsSid": "SM2342fe1b2c904d1ab04f0fc7a58abcb0", "SmsMessageSid": "SM2342fe1b2c904d1ab04f0fc7a58abcb0",
       "AccountSid": ACC, "MessagingServiceSid": "MG9752274e9e519418a7406176694466fa", "From": "+15558675310",
       "To": "+15017250604", "Body": "Only what the docs list", "NumMedia": "0", "NumSegments": "1"})
# The one complete status callback Twilio documents.
twilio("status-sent", {"AccountSid": ACC, "From": "+15017250604", "MessageSid": "SM1342fe1b2c904d1ab04f0fc7a58abca9", "MessageStatus": "sent",
       "SmsSid": "SM1342fe1b2c904d1ab04f0fc7a58abca9", "SmsStatus": "sent"})
twilio("status-delivered", {"AccountSid": ACC, "From": "+15017250604", "MessageSid": "SM1342fe1b2c904d1ab04f0fc7a58abca9",
       "MessageStatus": "delivered", "SmsSid": "SM1342fe1b2c904d1ab04f0fc7a58abca9", "SmsStatus": "delivered", "To": "+15558675310",
       "RawDlrDoneDate": "2508240501", "ApiVersion": "2010-04-01"})
twilio("status-undelivered-30003", {"AccountSid": ACC, "From": "+15017250604", "MessageSid": "SM1342fe1b2c904d1ab04f0fc7a58abca9",
       "MessageStatus": "undelivered", "SmsSid": "SM1342fe1b2c904d1ab04f0fc7a58abca9", "SmsStatus": "undelivered", "To": "+15558675310",
       "ErrorCode": "30003", "RawDlrDoneDate": "2508240501", "ApiVersion": "2010-04-01"})
twilio("status-whatsapp-failed-63016", {"AccountSid": ACC, "From": "whatsapp:+14155238886", "To": "whatsapp:+16505551234",
       "MessageSid": "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "MessageStatus": "failed", "SmsSid": "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
       "SmsStatus": "failed", "ErrorCode": "63016", "ChannelPrefix": "whatsapp", "ChannelInstallSid": "XEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
       "ChannelStatusMessage": "Failed to send freeform message because you are outside the allowed window.",
       "ChannelToAddress": "+1650555XXXX", "ApiVersion": "2010-04-01"})
# WhatsApp read receipts come as a status callback with EventType=READ.
twilio("status-whatsapp-read", {"AccountSid": ACC, "From": "whatsapp:+14155238886", "To": "whatsapp:+16505551234",
       "MessageSid": "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", "MessageStatus": "read", "SmsSid": "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
       "SmsStatus": "read", "EventType": "READ", "ChannelPrefix": "whatsapp", "ChannelInstallSid": "XEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
       "ChannelToAddress": "+1650555XXXX", "ApiVersion": "2010-04-01"})
twilio("status-queued-is-dead-lettered", {"AccountSid": ACC, "From": "+15017250604", "MessageSid": "SM1342fe1b2c904d1ab04f0fc7a58abcaa",
       "MessageStatus": "queued", "SmsSid": "SM1342fe1b2c904d1ab04f0fc7a58abcaa", "SmsStatus": "queued", "To": "+15558675310",
       "ApiVersion": "2010-04-01"})

# ---------------------------------------------------------------- Discord
def ed25519_hex(msg):
    return ED25519.sign(msg).hex()
def discord(name, raw):
    body = raw if isinstance(raw, bytes) else compact(raw)
    case("discord", name, body, {"Content-Type": "application/json", "X-Signature-Timestamp": str(TS),
         "X-Signature-Ed25519": ed25519_hex(str(TS).encode() + body)})
# discord-interactions-js test fixtures, serialised as JSON.stringify does.
discord("ping", b'{"id":"787053080478613555","token":"ThisIsATokenFromDiscordThatIsVeryLong","type":1,"version":1}')
discord("message-component", b'{"id":"787053080478613556","token":"ThisIsATokenFromDiscordThatIsVeryLong","type":3,"version":1,"data":{"custom_id":"test","component_type":2}}')
# The documented slash command interaction, as sent (pretty-printed, raw bytes signed).
with open(os.path.join(os.path.dirname(__file__), "fixture-sources", "discord-slash-command.json"), "rb") as f:
    discord("slash-command", f.read())
discord("modal-submit", {"id": "787053080478613558", "application_id": "771825006014889900", "type": 5,
        "token": "ThisIsATokenFromDiscordThatIsVeryLong", "version": 1, "channel_id": "645027906669510667", "guild_id": "290926798626357999",
        "member": {"user": {"id": "53908232506183680", "username": "Mason", "global_name": "Mason"}},
        "data": {"custom_id": "feedback_modal", "components": [{"type": 1, "components": [
            {"type": 4, "custom_id": "feedback_text", "value": "Love the new deck builder"}]}]}})
discord("autocomplete-is-ignored", {"id": "787053080478613557", "application_id": "771825006014889900", "type": 4,
        "token": "ThisIsATokenFromDiscordThatIsVeryLong", "version": 1, "channel_id": "645027906669510667", "guild_id": "290926798626357999",
        "member": {"user": {"id": "53908232506183680", "username": "Mason"}},
        "data": {"id": "771825006014889984", "name": "cardsearch", "type": 1, "options": [{"type": 3, "name": "cardname", "value": "Gitr", "focused": True}]}})

# ---------------------------------------------------------------- Vonage
def vonage(name, obj):
    body = compact(obj)
    claims = {"iat": TS, "jti": "c5ba8f24-1a14-4c10-bfdf-%012d" % (len(name) * 7919), "iss": "Vonage",
              "payload_hash": hashlib.sha256(body).hexdigest(), "api_key": "a1b2c3d", "application_id": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"}
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    case("vonage", name, body, {"Content-Type": "application/json", "Authorization": "Bearer " + token})
# Vonage's PHP SDK webhook fixtures (the v1 shapes).
vonage("inbound-whatsapp-text", {"channel": "whatsapp", "message_uuid": "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab", "to": "447700900000",
       "from": "447700900001", "timestamp": "2026-01-01T00:00:00.000Z", "profile": {"name": "Jane Smith"}, "context_status": "available",
       "context": {"message_uuid": "aaaaaaaa-bbbb-4ccc-8ddd-0123456789aa", "message_from": "447700900000"}, "provider_message": "string",
       "message_type": "text", "text": "Hello from Vonage!"})
vonage("inbound-messenger-text", {"channel": "messenger", "message_uuid": "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ac", "to": "0123456789",
       "from": "9876543210", "timestamp": "2026-01-01T00:00:00.000Z", "message_type": "text", "text": "Hello from Vonage!"})
vonage("inbound-mms-image", {"channel": "mms", "message_uuid": "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ad", "to": "447700900000",
       "from": "447700900001", "timestamp": "2026-01-01T00:00:00.000Z", "origin": {"network_code": "12345"}, "message_type": "image",
       "image": {"url": "https://example.com/image.jpg", "caption": "This is sample text."}})
vonage("status-delivered", {"message_uuid": "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ae", "to": "447700900000", "from": "447700900001",
       "timestamp": "2026-01-01T00:00:00.000Z", "status": "delivered", "channel": "sms", "usage": {"currency": "EUR", "price": "0.0333"},
       "client_ref": "my-personal-reference"})
vonage("status-rejected", {"message_uuid": "aaaaaaaa-bbbb-4ccc-8ddd-0123456789af", "to": "447700900000", "from": "447700900001",
       "timestamp": "2026-01-01T00:00:00.000Z", "status": "rejected", "channel": "whatsapp",
       "error": {"type": "https://developer.vonage.com/api-errors/messages-olympus#1340", "title": 1340,
                 "detail": "Outside of the allowed window", "instance": "bf0ca0bf927b3b52e3cb03217e1a1ddf"}})
vonage("status-submitted", {"message_uuid": "aaaaaaaa-bbbb-4ccc-8ddd-0123456789b0", "to": "447700900000", "from": "447700900001",
       "timestamp": "2026-01-01T00:00:00.000Z", "status": "submitted", "channel": "sms", "usage": {"currency": "EUR", "price": "0.0333"}})
vonage("status-undeliverable", {"message_uuid": "aaaaaaaa-bbbb-4ccc-8ddd-0123456789b1", "to": "447700900000", "from": "447700900001",
       "timestamp": "2026-01-01T00:00:00.000Z", "status": "undeliverable", "channel": "sms",
       "error": {"type": "https://developer.vonage.com/api-errors/messages-olympus#1320", "title": 1320,
                 "detail": "Message failed because the number is unreachable", "instance": "bf0ca0bf927b3b52e3cb03217e1a1dde"}})
# The older v0.1 status shape (to/from as objects).
vonage("status-read-v0.1", {"message_uuid": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab", "to": {"type": "sms", "id": "0123456789012345",
       "number": "447700900000"}, "from": {"type": "sms", "id": "0123456789012345", "number": "447700900000"},
       "timestamp": "2026-01-01T00:00:00.000Z", "status": "read", "client_ref": "my-personal-reference"})

# ---------------------------------------------------------------- Viber
def viber(name, obj, raw=None):
    body = raw if raw is not None else pretty(obj)
    case("viber", name, body, {"Content-Type": "application/json", "X-Viber-Content-Signature": sig("sha256", body)})
VUSER = {"id": "01234567890A=", "name": "John McClane", "avatar": "http://avatar.example.com", "country": "UK", "language": "en", "api_version": 1}
# The documented callbacks; message_token is above 2^53 and must survive digit for digit.
viber("message", {"event": "message", "timestamp": 1767225600627, "message_token": 4912661846655238145, "sender": VUSER,
      "message": {"type": "text", "text": "a message to the service", "media": "http://example.com",
                  "location": {"lat": 50.76891, "lon": 6.11499}, "tracking_data": "tracking data"}})
viber("delivered", {"event": "delivered", "timestamp": 1767225600627, "message_token": 4912661846655238145, "user_id": "01234567890A="})
viber("seen", {"event": "seen", "timestamp": 1767225600627, "message_token": 4912661846655238145, "user_id": "01234567890A="})
viber("failed", {"event": "failed", "timestamp": 1767225600627, "message_token": 4912661846655238145, "user_id": "01234567890A=",
      "desc": "failure description"})
viber("subscribed", {"event": "subscribed", "timestamp": 1767225600627, "user": VUSER, "message_token": 4912661846655238145})
viber("conversation-started", {"event": "conversation_started", "timestamp": 1767225600627, "message_token": 4912661846655238146,
      "type": "open", "context": "context information", "user": VUSER, "subscribed": False})
viber("unsubscribed-is-dead-lettered", {"event": "unsubscribed", "timestamp": 1767225600627, "user_id": "01234567890A=",
      "message_token": 4912661846655238147})
# viber-bot-python's signature test body: the `webhook` check, answered 200.
viber("webhook-is-ignored", None, raw=b'{"event":"webhook","timestamp":4977069964384421269,"message_token":1478683725125}')

# ---------------------------------------------------------------- Standard Webhooks v1a
def stdwh_v1a(name, obj, mid, both=False):
    body = compact(obj)
    signed = b"%s.%d." % (mid.encode(), TS) + body
    sigs = "v1a," + base64.b64encode(ED25519.sign(signed)).decode()
    if both:
        sigs = "v1," + base64.b64encode(hmac.new(SECRET, signed, hashlib.sha256).digest()).decode() + " " + sigs
    case("standard-webhooks", name, body, {"Content-Type": "application/json", "webhook-id": mid, "webhook-timestamp": str(TS),
         "webhook-signature": sigs})
stdwh_v1a("message-created-v1a", {"type": "message.created", "timestamp": "2026-01-01T00:00:00Z", "data": {"message": {"id": "m3",
          "conversation_id": "c1", "direction": "inbound", "sender": {"type": "customer", "id": "u1"}, "content": {"type": "text", "text": "signed with ed25519"}}}},
          "msg_2KWPBgLlAfxdpx2AI54pPJ87a1")
stdwh_v1a("message-created-v1-and-v1a", {"type": "message.created", "timestamp": "2026-01-01T00:00:00Z", "data": {"message": {"id": "m4",
          "conversation_id": "c1", "direction": "inbound", "sender": {"type": "customer", "id": "u1"}, "content": {"type": "text", "text": "both"}}}},
          "msg_2KWPBgLlAfxdpx2AI54pPJ87a2", both=True)
# ---------------------------------------------------------------- Published-key tokens
# Bot Framework and Google Chat sign a bearer JWT with keys they publish; the
# fixtures are signed RS256 with a throwaway key (fixtures/keys/fixture-rsa.pem,
# kid hookgate-fixture), whose public half `hookgate check` trusts (src/fixture.rs),
# for the audience hookgate-fixture-audience; valid for an hour from TS.
with open(os.path.join(ROOT, "keys", "fixture-rsa.pem"), "rb") as f:
    FIXTURE_RSA = f.read()
KID, AUD = "hookgate-fixture", "hookgate-fixture-audience"

def published_jwt(claims):
    full = {"aud": AUD, "iat": TS, "nbf": TS, "exp": TS + 3600, **claims}
    return "Bearer " + jwt.encode(full, FIXTURE_RSA, algorithm="RS256", headers={"kid": KID})

# ---------------------------------------------------------------- Microsoft Teams
# Activities as Microsoft's Teams and Bot Framework documents show them (conversation
# events, edits and soft deletes); the token's serviceUrl claim is the activity's.
def msteams(name, obj):
    body = pretty(obj)
    token = published_jwt({"iss": "https://api.botframework.com", "serviceUrl": obj["serviceUrl"]})
    case("msteams", name, body, {"Content-Type": "application/json; charset=utf-8", "Authorization": token,
                                 "User-Agent": "Microsoft-SkypeBotApi (Microsoft-BotFramework/3.0)"})
TEAMS_SVC = "https://smba.trafficmanager.net/amer/"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
BOT = {"id": "28:f5d48856-5b42-41a0-8c3a-c5f944b679b0", "name": "SongsuggesterBot"}
MEGAN = {"id": "29:1XJKJMvc5GBtc2JwZq0oj8tHZmzrQgFmB39ATiQWA85gQtHieVkKilBZ9XHoq9j7Zaqt7CZ-NJWi7me2kHTL3Bw",
         "name": "Megan Bowen", "aadObjectId": "7faf80bb-2bb1-4b6b-9f88-2e8a2c6d6f1c"}
CHANNEL_CONV = {"isGroup": True, "conversationType": "channel", "tenantId": TENANT,
                "id": "19:efa9296d959346209fea44151c742e73@thread.skype;messageid=1481567603816"}
msteams("message-personal", {"text": "Hello, can you check my order?", "textFormat": "plain", "type": "message",
        "timestamp": "2026-01-01T00:00:00.437Z", "localTimestamp": "2025-12-31T16:00:00.437-08:00", "id": "1767225600437",
        "channelId": "msteams", "serviceUrl": TEAMS_SVC, "from": MEGAN,
        "conversation": {"conversationType": "personal", "tenantId": TENANT,
                         "id": "a:17I0kl8EkpE1O9PH5TWrzrLqwnU0nFYSXasqAmNfH8oRHERuJsMfP3t5Bdf7fIvuNcmFyJ0JDtpn5u3ZXz1D3Xr7xU5Vfb4e1C0sWe1rYfPZmUQsr3C2hVvMw1q0LxG"},
        "recipient": BOT, "entities": [{"locale": "en-US", "country": "US", "platform": "Web", "type": "clientInfo"}],
        "channelData": {"tenant": {"id": TENANT}}, "locale": "en-US"})
msteams("message-channel-mention", {"text": "<at>SongsuggesterBot</at> suggest a song for Friday", "textFormat": "plain",
        "type": "message", "timestamp": "2026-01-01T00:00:01.105Z", "id": "1767225601105",
        "channelId": "msteams", "serviceUrl": TEAMS_SVC, "from": MEGAN, "conversation": CHANNEL_CONV, "recipient": BOT,
        "entities": [{"mentioned": BOT, "text": "<at>SongsuggesterBot</at>", "type": "mention"}],
        "channelData": {"teamsChannelId": "19:efa9296d959346209fea44151c742e73@thread.skype",
                        "teamsTeamId": "19:efa9296d959346209fea44151c742e73@thread.skype",
                        "channel": {"id": "19:efa9296d959346209fea44151c742e73@thread.skype"},
                        "team": {"id": "19:efa9296d959346209fea44151c742e73@thread.skype"}, "tenant": {"id": TENANT}},
        "replyToId": "1481567603816"})
msteams("message-update", {"type": "messageUpdate", "timestamp": "2026-01-01T00:02:00.461Z", "id": "1767225600437",
        "channelId": "msteams", "serviceUrl": TEAMS_SVC, "from": MEGAN,
        "conversation": {"isGroup": True, "conversationType": "groupChat", "tenantId": TENANT,
                         "id": "19:78fe6a5e1b2e4ffc8d2bc10f8d0bd5a3@thread.v2"},
        "recipient": BOT, "channelData": {"tenant": {"id": TENANT}, "eventType": "editMessage"},
        "locale": "en-US", "text": "Hello, can you check my order #1042?"})
msteams("message-delete", {"type": "messageDelete", "timestamp": "2026-01-01T00:03:00.113Z", "id": "1767225600437",
        "channelId": "msteams", "serviceUrl": TEAMS_SVC, "from": MEGAN,
        "conversation": {"isGroup": True, "conversationType": "groupChat", "tenantId": TENANT,
                         "id": "19:78fe6a5e1b2e4ffc8d2bc10f8d0bd5a3@thread.v2"},
        "recipient": BOT, "channelData": {"tenant": {"id": TENANT}, "eventType": "softDeleteMessage"}})
msteams("bot-added-to-team", {"type": "conversationUpdate", "membersAdded": [{"id": "28:608cacfd-1cea-40c9-b678-4b93e69bb72b"}],
        "timestamp": "2026-01-01T00:04:56.534Z", "id": "f:0b9079f4-d4d3-3d8e-b883-798298053c7e", "channelId": "msteams",
        "serviceUrl": TEAMS_SVC, "from": {"id": "29:1ljv6N86roXr5pjPrCJVIz6xHh5QxjI", "aadObjectId": "eddfa9d4-346e-4cce-a18f-fa6261ad776b"},
        "conversation": {"isGroup": True, "conversationType": "channel", "tenantId": "b28fdbfd-2b78-4f93-b0f8-8881793f0f8f",
                         "id": "19:0b7f32667e064dd9b25d7969801541f4@thread.tacv2", "name": "2021 Test Channel"},
        "recipient": {"id": "28:608cacfd-1cea-40c9-b678-4b93e69bb72b", "name": "Test Bot"},
        "channelData": {"settings": {"selectedChannel": {"id": "19:0b7f32667e064dd9b25d7969801541f4@thread.tacv2"}},
                        "team": {"aadGroupId": "f3ec8cd2-e704-4344-8c47-9a3a21d683c0", "name": "TestTeam2022",
                                 "id": "19:zFLSDFWsesfzcmKArqKJ-65aOXJz@sgf462H2wz41@thread.tacv2"},
                        "eventType": "teamMemberAdded", "tenant": {"id": "b28fdbfd-2b78-4f93-b0f8-8881793f0f8f"}}})
msteams("channel-created", {"type": "conversationUpdate", "timestamp": "2026-01-01T00:05:07.478Z",
        "localTimestamp": "2025-12-31T16:05:07.478-08:00", "id": "f:dd6ec311", "channelId": "msteams", "serviceUrl": TEAMS_SVC,
        "from": {"id": "29:1wR7IdIRIoerMIWbewMi75JA3scaMuxvFon9eRQW2Nix5loMDo0362st2IaRVRirPZBv1WdXT8TIFWWmlQCizZQ"},
        "conversation": {"isGroup": True, "conversationType": "channel", "id": "19:efa9296d959346209fea44151c742e73@thread.skype"},
        "recipient": BOT, "channelData": {"channel": {"id": "19:6d97d816470f481dbcda38244b98689a@thread.skype", "name": "FunDiscussions"},
                                          "team": {"id": "19:efa9296d959346209fea44151c742e73@thread.skype"},
                                          "eventType": "channelCreated", "tenant": {"id": TENANT}}})
msteams("typing-is-ignored", {"type": "typing", "timestamp": "2026-01-01T00:00:00.1Z", "id": "f:typing-01", "channelId": "msteams",
        "serviceUrl": TEAMS_SVC, "from": MEGAN, "conversation": {"conversationType": "personal", "tenantId": TENANT, "id": "a:17I0kl8"},
        "recipient": BOT, "channelData": {"tenant": {"id": TENANT}}})
msteams("reaction-is-dead-lettered", {"reactionsAdded": [{"type": "like"}], "type": "messageReaction",
        "timestamp": "2026-01-01T00:06:41.943Z", "id": "f:9f78d1f3", "channelId": "msteams", "serviceUrl": TEAMS_SVC,
        "from": {"id": "29:1I9Is_Sx0O-Iy2rQ7Xz1lcaPKlO9eqmBRTBuW6XzkFtcjqxTjPaCMij8BVMdBcL9L_RwWNJyAHFQb0TRzXgyQvA",
                 "aadObjectId": "c33aafc4-646d-4543-9d4c-abd28e4d2110"},
        "conversation": {"isGroup": True, "conversationType": "channel", "id": "19:3629591d4b774aa08cb0887902eee7c1@thread.skype"},
        "recipient": BOT, "channelData": {"channel": {"id": "19:3629591d4b774aa08cb0887902eee7c1@thread.skype"},
                                          "team": {"id": "19:efa9296d959346209fea44151c742e73@thread.skype"}, "tenant": {"id": TENANT}},
        "replyToId": "1575667808184"})

# ---------------------------------------------------------------- Google Chat
# Interaction events as the Chat API's Event reference shows them. The token is the
# project-number one (iss chat@system.gserviceaccount.com), or with `id_token` the
# endpoint-URL one (a Google ID token whose email is Chat's service account).
def gchat(name, obj, id_token=False):
    body = pretty(obj)
    if id_token:
        claims = {"iss": "https://accounts.google.com", "email": "chat@system.gserviceaccount.com", "email_verified": True,
                  "sub": "113081767336806418251", "azp": "113081767336806418251"}
    else:
        claims = {"iss": "chat@system.gserviceaccount.com"}
    case("google-chat", name, body, {"Content-Type": "application/json", "Authorization": published_jwt(claims),
                                     "User-Agent": "Google-Dynamite"})
CHUCK = {"name": "users/12345678901234567890", "displayName": "Chuck Norris", "avatarUrl": "https://lh3.googleusercontent.com/.../photo.jpg",
         "email": "chuck@example.com", "type": "HUMAN", "domainId": "c3d4e5"}
ROOM = {"name": "spaces/AAAAAAAAAAA", "type": "ROOM", "spaceType": "SPACE", "displayName": "Chuck Norris Discussion Room"}
gchat("message", {"type": "MESSAGE", "eventTime": "2026-01-01T00:00:00.910959Z", "space": ROOM,
      "message": {"name": "spaces/AAAAAAAAAAA/messages/CCCCCCCCCCC.CCCCCCCCCCC", "sender": CHUCK, "createTime": "2026-01-01T00:00:00.910959Z",
                  "text": "@TestBot Violence is my last option.", "argumentText": " Violence is my last option.",
                  "thread": {"name": "spaces/AAAAAAAAAAA/threads/BBBBBBBBBBB"},
                  "annotations": [{"length": 8, "startIndex": 0, "userMention": {"type": "MENTION", "user": {"displayName": "TestBot",
                                   "name": "users/1234567890987654321", "type": "BOT"}}, "type": "USER_MENTION"}],
                  "space": ROOM},
      "user": CHUCK, "common": {"userLocale": "en", "hostApp": "CHAT"}})
gchat("message-endpoint-url-audience", {"type": "MESSAGE", "eventTime": "2026-01-01T00:00:05.123456Z",
      "space": {"name": "spaces/DDDDDDDDDDD", "type": "DM", "spaceType": "DIRECT_MESSAGE", "singleUserBotDm": True},
      "message": {"name": "spaces/DDDDDDDDDDD/messages/EEEEEEEEEEE.EEEEEEEEEEE", "sender": CHUCK, "createTime": "2026-01-01T00:00:05.123456Z",
                  "text": "What is my order status?", "argumentText": "What is my order status?",
                  "thread": {"name": "spaces/DDDDDDDDDDD/threads/FFFFFFFFFFF"}},
      "user": CHUCK, "common": {"userLocale": "en", "hostApp": "CHAT"}}, id_token=True)
gchat("added-to-space", {"type": "ADDED_TO_SPACE", "eventTime": "2026-01-01T00:01:00.000000Z", "space": ROOM, "user": CHUCK,
      "common": {"userLocale": "en", "hostApp": "CHAT"}})
gchat("removed-from-space", {"type": "REMOVED_FROM_SPACE", "eventTime": "2026-01-01T00:09:00.000000Z", "space": ROOM, "user": CHUCK,
      "common": {"userLocale": "en", "hostApp": "CHAT"}})
gchat("card-clicked", {"type": "CARD_CLICKED", "eventTime": "2026-01-01T00:02:00.000000Z", "space": ROOM, "user": CHUCK,
      "message": {"name": "spaces/AAAAAAAAAAA/messages/GGGGGGGGGGG.GGGGGGGGGGG", "sender": {"name": "users/1234567890987654321",
                  "displayName": "TestBot", "type": "BOT"}, "createTime": "2026-01-01T00:01:30.000000Z", "text": "Rate this answer"},
      "action": {"actionMethodName": "rate_answer", "parameters": [{"key": "stars", "value": "5"}]},
      "common": {"userLocale": "en", "hostApp": "CHAT", "invokedFunction": "rate_answer", "parameters": {"stars": "5"}}})

# ---------------------------------------------------------------- Raw public-key signatures
# Freshchat (RSA-SHA256), SendGrid (ECDSA P-256) and Telnyx (Ed25519) sign with a
# private key; the fixtures are signed with throwaway keys (fixtures/keys/) and
# RFC 8032's TEST 1 key, whose public halves `hookgate check` trusts (src/fixture.rs).
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, ec
RSA_KEY = serialization.load_pem_private_key(FIXTURE_RSA, password=None)
with open(os.path.join(ROOT, "keys", "fixture-ec.pem"), "rb") as f:
    EC_KEY = serialization.load_pem_private_key(f.read(), password=None)

# ---------------------------------------------------------------- Freshchat
# The payloads of Freshchat's "Webhooks payload structure and authentication"
# article (support.freshchat.com 239404), compact as Freshchat sends them.
def freshchat(name, obj):
    body = compact(obj)
    signature = base64.b64encode(RSA_KEY.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()
    case("freshchat", name, body, {"Content-Type": "application/json", "X-Freshchat-Signature": signature,
                                   "X-Freshchat-Payload-Version": "1", "X-Retry-Count": "0"})
freshchat("message-create-agent", {"actor": {"actor_type": "agent", "actor_id": "fba1873d-67d6-4d63-be97-53b29ae1e42a"},
    "action": "message_create", "action_time": "2021-08-17T08:06:22.824Z", "data": {"message": {
    "message_parts": [{"text": {"content": "hello"}}], "app_id": "a1553a5a-9eed-48e8-9fc7-9106080f509d",
    "actor_id": "fba1873d-67d6-4d63-be97-53b29ae1e42a", "org_actor_id": "345162432277281455", "id": "6896afdc-23bc-45cc-8bfe-d5ecfbab6dc1",
    "channel_id": "eaee3077-7e72-475d-bd5c-9eeed4262995", "conversation_id": "ac2175df14d36caf64e9a578fad89070",
    "interaction_id": "515435468500047-1628507537000", "message_type": "normal", "actor_type": "agent",
    "created_time": "2021-08-17T08:06:22.803Z", "user_id": "Denise_aliasc26ddeed24ad9e8b19a68eb119d6e37c", "message_source": "web"}}})
# nyaruka/courier's Freshchat test delivery (a user's message), the body of the
# published vector checked in src/verify/asymmetric_tests.rs.
freshchat("message-create-user", {"actor": {"actor_type": "user", "actor_id": "882f3926-b292-414b-a411-96380db373cd"},
    "action": "message_create", "action_time": "2019-06-21T17:43:20.875Z", "data": {"message": {
    "message_parts": [{"text": {"content": "Test 2"}}], "app_id": "55b190fa-5d3c-45c4-bc49-74ddcfcf53d7",
    "actor_id": "882f3926-b292-414b-a411-96380db373cd", "id": "7a454fde-c720-4c97-a61d-0ffe70449eb6",
    "channel_id": "c8fddfaf-622a-4a0e-b060-4f3ccbeab606", "conversation_id": "c327498e-f713-481e-8d83-0603e03d2521",
    "message_type": "normal", "actor_type": "user", "created_time": "2019-06-21T17:43:20.866Z"}}})
freshchat("conversation-reopen", {"actor": {"actor_type": "user", "actor_id": "0b8952b8-1c30-42ed-8e99-1f2a7bb0c63b"},
    "action": "conversation_reopen", "action_time": "2022-04-01T06:10:40.053Z", "data": {"reopen": {"reopener": "user",
    "reopener_id": "0b8952b8-1c30-42ed-8e99-1f2a7bb0c63b", "conversation": {"conversation_id": "911df7d6-f197-4926-9b99-a20def8ad767",
    "app_id": "977e21af-50df-4816-b1b2-381b6cc1f4b0", "status": "reopened", "channel_id": "600a9b8d-0321-4b05-a7fb-70b4a5e5e371",
    "assigned_group_id": "4cf5d9b8-b782-499f-b93c-541229df3729"}, "interaction_id": "487870040076744-1648793439927"}}})
# The article's assignment example: assignor, target agent and group, the
# conversation as it now stands.
freshchat("conversation-assignment", {"actor": {"actor_type": "agent", "actor_id": "8996ad5d-4b84-4e95-a60d-3f290423db3e"},
    "action": "conversation_assignment", "action_time": "2022-04-01T06:12:05.418Z", "data": {"assignment": {"assignor": "agent",
    "assignor_id": "8996ad5d-4b84-4e95-a60d-3f290423db3e", "to_agent_id": "5cf047ca-e453-4d2e-9fba-46da60708e87",
    "to_group_id": "4cf5d9b8-b782-499f-b93c-541229df3729", "from_agent_id": "", "from_group_id": "",
    "conversation": {"conversation_id": "911df7d6-f197-4926-9b99-a20def8ad767", "app_id": "977e21af-50df-4816-b1b2-381b6cc1f4b0",
    "status": "assigned", "channel_id": "600a9b8d-0321-4b05-a7fb-70b4a5e5e371", "assigned_agent_id": "5cf047ca-e453-4d2e-9fba-46da60708e87",
    "assigned_group_id": "4cf5d9b8-b782-499f-b93c-541229df3729"}, "interaction_id": "487870040076744-1648793525418"}}})
# The article's resolution example is cut short after app_id; the rest follows its
# reopen example's conversation object.
freshchat("conversation-resolution", {"actor": {"actor_type": "agent", "actor_id": "8996ad5d-4b84-4e95-a60d-3f290423db3e"},
    "action": "conversation_resolution", "action_time": "2022-04-01T06:16:34.207Z", "data": {"resolve": {"resolver": "agent",
    "resolver_id": "8996ad5d-4b84-4e95-a60d-3f290423db3e", "conversation": {"conversation_id": "edc29cf1-a0fc-4d75-b821-d4eea33c0512",
    "app_id": "36e4f1a0-5b48-4d6c-9f63-0e1d4c7c2b11", "status": "resolved", "channel_id": "600a9b8d-0321-4b05-a7fb-70b4a5e5e371",
    "assigned_group_id": "4cf5d9b8-b782-499f-b93c-541229df3729"}, "interaction_id": "487870040076744-1648793794207"}}})

# ---------------------------------------------------------------- SendGrid
# Event Webhook batches as SendGrid's "Event Webhook reference" shows each event;
# the dropped event is the SDKs' signature vector's. Signed over the timestamp
# header followed by the body, DER-encoded (SendGrid sends base64 DER).
def sendgrid(name, events, ts=TS):
    body = json.dumps(events, separators=(",", ":")).encode() + b"\r\n"
    signature = EC_KEY.sign(str(ts).encode() + body, ec.ECDSA(hashes.SHA256()))
    case("sendgrid", name, body, {"Content-Type": "application/json", "User-Agent": "SendGrid Event API",
         "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
         "X-Twilio-Email-Event-Webhook-Timestamp": str(ts)})
SG_MSG = "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0"
def sg(event, eid, **kw):
    return {"email": "example@test.com", "timestamp": TS - 60, "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
            "event": event, "category": "cat facts", "sg_event_id": eid, "sg_message_id": SG_MSG, **kw}
sendgrid("delivery-batch", [
    sg("processed", "rbtnWrG1DVDGGGFHFyun0A=="),
    sg("deferred", "t7LEShmowp86DTdUW8M-GQ==", response="400 try again later", attempt="5"),
    sg("delivered", "rWVYmVk90MjZJ9iohOBa3w==", response="250 OK"),
    sg("open", "FOTFFO0ecsBE-zxFXfs6WA==", useragent="Mozilla/4.0 (compatible; MSIE 6.1; Windows XP; .NET CLR 1.1.4322; .NET CLR 2.0.50727)", ip="255.255.255.255"),
])
sendgrid("failures-batch", [
    sg("bounce", "6g4ZI7SA-xmRDv57GoPIPw==", reason="500 unknown recipient", status="5.0.0", type="bounce", bounce_classification="Invalid Address"),
    {"email": "hello@world.com", "event": "dropped", "reason": "Bounced Address", "sg_event_id": "ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA",
     "sg_message_id": "LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0",
     "smtp-id": "<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>", "timestamp": 1600112492},
])
# Engagement outside the canonical model: dead-lettered per item.
sendgrid("click-is-dead-lettered", [sg("click", "kCAi1KttyQdEKHhdC-nuEA==", url="http://www.sendgrid.com/", url_offset={"index": 0, "type": "html"},
         useragent="Mozilla/4.0 (compatible; MSIE 6.1; Windows XP; .NET CLR 1.1.4322; .NET CLR 2.0.50727)", ip="255.255.255.255")])

# ---------------------------------------------------------------- Telnyx
# Messaging webhooks as Telnyx's "Receiving webhooks for messaging" guide shows
# them; signed over "<telnyx-timestamp>|<body>" with RFC 8032's TEST 1 key.
def telnyx(name, obj, ts=TS):
    body = compact(obj)
    signature = base64.b64encode(ED25519.sign(str(ts).encode() + b"|" + body)).decode()
    case("telnyx", name, body, {"Content-Type": "application/json", "User-Agent": "telnyx-webhooks",
         "telnyx-signature-ed25519": signature, "telnyx-timestamp": str(ts)})
TX_PROFILE = "400176d5-5f3e-4b1c-8a4b-5d5f0e3c1e2f"
def tx_event(eid, etype, occurred, payload):
    return {"data": {"event_type": etype, "id": eid, "occurred_at": occurred, "payload": payload, "record_type": "event"},
            "meta": {"attempt": 1, "delivered_to": "https://example.com/webhooks"}}
telnyx("message-received", tx_event("b301ed3f-1490-491f-995f-6e64e69674d4", "message.received", "2026-01-01T00:00:00.000+00:00", {
    "cc": [], "completed_at": None, "cost": None, "direction": "inbound", "encoding": "GSM-7", "errors": [],
    "from": {"carrier": "T-Mobile USA", "line_type": "long_code", "phone_number": "+13125550001", "status": "webhook_delivered"},
    "id": "84cca175-9755-4859-b67f-4730d7f58aa3", "media": [], "messaging_profile_id": TX_PROFILE, "organization_id": "9d76d591-1b7e-4a48-8b5a-7e3d1c0b2e0f",
    "parts": 1, "received_at": "2026-01-01T00:00:00.000+00:00", "record_type": "message", "sent_at": None, "subject": "",
    "tags": [], "text": "Hello from Telnyx!", "to": [{"carrier": "Telnyx", "line_type": "Wireless", "phone_number": "+17735550002", "status": "webhook_delivered"}],
    "type": "SMS", "valid_until": None, "webhook_failover_url": None, "webhook_url": "https://example.com/webhooks"}))
TX_OUT = {"cc": [], "completed_at": None, "cost": {"amount": "0.0051", "currency": "USD"}, "direction": "outbound", "encoding": "GSM-7",
    "errors": [], "from": {"carrier": "TELNYX LLC", "line_type": "VoIP", "phone_number": "+17735550002"},
    "id": "40385f64-5717-4562-b3fc-2c963f66afa6", "media": [], "messaging_profile_id": TX_PROFILE, "organization_id": "9d76d591-1b7e-4a48-8b5a-7e3d1c0b2e0f",
    "parts": 1, "received_at": "2026-01-01T00:01:00.000+00:00", "record_type": "message", "subject": None, "tags": [],
    "text": "Your order has shipped", "type": "SMS", "valid_until": "2026-01-01T01:01:00.000+00:00",
    "webhook_failover_url": None, "webhook_url": "https://example.com/webhooks"}
def tx_out(status, **kw):
    return {**TX_OUT, "to": [{"carrier": "T-MOBILE USA, INC.", "line_type": "Wireless", "phone_number": "+13125550001", "status": status}], **kw}
telnyx("message-sent", tx_event("4ee8c3a6-4995-4309-a3c6-38e3db9ea4be", "message.sent", "2026-01-01T00:01:01.000+00:00",
       tx_out("sent", sent_at="2026-01-01T00:01:01.000+00:00")))
telnyx("message-finalized-delivered", tx_event("8ef4bf27-f1ae-4d6f-b0bb-6b6b0d7c0bd5", "message.finalized", "2026-01-01T00:01:03.000+00:00",
       tx_out("delivered", sent_at="2026-01-01T00:01:01.000+00:00", completed_at="2026-01-01T00:01:03.000+00:00")))
telnyx("message-finalized-failed", tx_event("a1d2f3e4-5b6c-4d7e-8f90-1a2b3c4d5e6f", "message.finalized", "2026-01-01T00:02:03.000+00:00",
       tx_out("delivery_failed", sent_at="2026-01-01T00:02:01.000+00:00", completed_at="2026-01-01T00:02:03.000+00:00",
              errors=[{"code": "40300", "title": "Blocked as spam - temporary", "detail": "Message has been flagged as spam by the carrier."}])))
telnyx("message-finalized-sending-failed", tx_event("c7e1b2d3-4f5a-4b6c-9d8e-7f6a5b4c3d2e", "message.finalized", "2026-01-01T00:04:01.000+00:00",
       tx_out("sending_failed", completed_at="2026-01-01T00:04:01.000+00:00",
              errors=[{"code": "40008", "title": "Undeliverable", "detail": "The destination number is not SMS-capable."}])))
telnyx("call-initiated-is-dead-lettered", tx_event("0ccc7b54-4df3-4bca-a65a-3da1ecc777f0", "call.initiated", "2026-01-01T00:03:00.000+00:00", {
    "call_control_id": "v3:AgDIxmoRX6QMuaIj_uXRXnPAXP0QlNfXczRrZvZakpWxBlpw48KyZQ==", "call_leg_id": "428c31b6-7af4-4bcb-b7f5-5013ef9657c1",
    "call_session_id": "428c31b6-abf3-3bc1-b7f4-5013ef9657c1", "client_state": "aGF2ZSBhIG5pY2UgZGF5ID1d", "connection_id": "7267xxxxxxxxxxxxxx",
    "direction": "incoming", "from": "+35319605860", "start_time": "2026-01-01T00:03:00.000+00:00", "state": "parked", "to": "+13129457420"}))

# ================================================================ enterprise chat and support desks (issue 24)
# Payloads follow each provider's documented examples (ids shortened where the
# document elides them); signed here with Python's hmac, independently of hookgate.
TS_MS = TS * 1000

# ---------------------------------------------------------------- Zoom
# x-zm-signature: v0=<hex HMAC-SHA256 of "v0:{x-zm-request-timestamp}:{body}"> (seconds).
def zoom(name, obj):
    body = compact(obj)
    mac = hmac.new(SECRET, b"v0:%d:" % TS + body, hashlib.sha256).hexdigest()
    case("zoom", name, body, {"Content-Type": "application/json", "x-zm-request-timestamp": str(TS), "x-zm-signature": "v0=" + mac})
zoom("url-validation", {"payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"}, "event_ts": 1654503849680, "event": "endpoint.url_validation"})
ZOOM_OBJ = {"id": "e6a6d0ab-e1c1-4b6d-ab2c-0fbf8b0b1b1a", "session_id": "27bd6d8c-4f61-4a89-84b1-8f4c1c2e8a55",
            "channel_id": "a4b5c6d7e8f94a0b8c1d2e3f4a5b6c7d", "channel_name": "Support", "message": "Can someone look at ticket 4521?",
            "timestamp": TS_MS, "date_time": "2026-01-01T00:00:00Z"}
def zoom_chat(event, obj):
    return {"event": event, "event_ts": TS_MS, "payload": {"account_id": "AAAAAABBBB", "operator": "jchill@example.com",
            "operator_id": "z8yCxjabcdEFGHfp8uQ", "operator_member_id": "ad3a3c03d9e0f0f8b0fa8a1dbb8a8e15", "object": obj}}
zoom("chat-message-sent", zoom_chat("chat_message.sent", ZOOM_OBJ))
zoom("chat-message-updated", zoom_chat("chat_message.updated", {**ZOOM_OBJ, "message": "Can someone look at ticket 4522?"}))
zoom("chat-message-deleted", zoom_chat("chat_message.deleted", {k: ZOOM_OBJ[k] for k in ("id", "session_id", "channel_id", "channel_name", "timestamp", "date_time")}))
zoom("meeting-started-is-dead-lettered", {"event": "meeting.started", "event_ts": TS_MS, "payload": {"account_id": "AAAAAABBBB",
     "object": {"id": "1234567890", "uuid": "4444AAAiAAAAAiAiAiiAii==", "host_id": "x1yCzABCDEfg23HiJKl4mN", "topic": "My Meeting",
                "type": 2, "start_time": "2026-01-01T00:00:00Z", "timezone": "UTC", "duration": 60}}})

# ---------------------------------------------------------------- Webex
# X-Spark-Signature: hex HMAC-SHA1 of the body with the webhook's secret.
def webex(name, obj):
    body = compact(obj)
    case("webex", name, body, {"Content-Type": "application/json", "X-Spark-Signature": sig("sha1", body)})
def webex_hook(resource, event, data):
    return {"id": "Y2lzY29zcGFyazovL3VzL1dFQkhPT0svZjRlNjA1NjAtNjYwMi00ZmIwLWEyNWEtOTQ5ODgxNjA5NDk3",
            "name": "New message in 'Project Unicorn' room", "targetUrl": "https://hooks.example.com/hooks/webex",
            "resource": resource, "event": event, "filter": "roomId=Y2lzY29zcGFyazovL3VzL1JPT00vYmJjZWIxYWQtNDNmMS0zYjU4LTkxNDctZjE0YmIwYzRkMTU0",
            "orgId": "OTZhYmMyYWEtM2RjYy0xMWU1LWExNTItZmUzNDgxOWNkYzlh", "createdBy": "Y2lzY29zcGFyazovL3VzL1BFT1BMRS8xZjdkZTVjYi04NTYxLTQ2NzEtYmMwMy1iYzk3NDMxNDQ0MmQ",
            "appId": "Y2lzY29zcGFyazovL3VzL0FQUExJQ0FUSU9OL0MyNzljYjMwYzAyOTE4MGJiNGJkYWViYjA2MWI3OTY1Y2RhMzliNjAyOTdjODUwM2YyNjZhYmY2NmM5OTllYzFm",
            "ownedBy": "creator", "status": "active", "created": "2026-01-01T00:00:00.000Z",
            "actorId": "Y2lzY29zcGFyazovL3VzL1BFT1BMRS8xZjdkZTVjYi04NTYxLTQ2NzEtYmMwMy1iYzk3NDMxNDQ0MmQ", "data": data}
WEBEX_MSG = {"id": "Y2lzY29zcGFyazovL3VzL01FU1NBR0UvOTJkYjNiZTAtNDNiZC0xMWU2LThhZTktZGQ1YjNkZmM1NjVk",
             "roomId": "Y2lzY29zcGFyazovL3VzL1JPT00vYmJjZWIxYWQtNDNmMS0zYjU4LTkxNDctZjE0YmIwYzRkMTU0", "roomType": "group",
             "personId": "Y2lzY29zcGFyazovL3VzL1BFT1BMRS9mNWIzNjE4Ny1jOGRkLTQ3MjctOGIyZi1mOWM0NDdmMjkwNDY",
             "personEmail": "matt@example.com", "created": "2026-01-01T00:00:00.000Z"}
webex("message-created", webex_hook("messages", "created", WEBEX_MSG))
webex("message-deleted", webex_hook("messages", "deleted", WEBEX_MSG))
webex("membership-created-is-dead-lettered", webex_hook("memberships", "created", {"id": "Y2lzY29zcGFyazovL3VzL01FTUJFUlNISVAvMGQwYzkxYjYtY2U2MC00NzI1LWI2ZDAtMzQ1NWQ1ZDExZWYzOmNkZTFkZDQwLTJmMGQtMTFlNS1iYTljLTdiNjU1NmQyMjA3Yg",
      "roomId": WEBEX_MSG["roomId"], "personId": WEBEX_MSG["personId"], "personEmail": "matt@example.com", "isModerator": False,
      "isMonitor": False, "created": "2026-01-01T00:00:00.000Z"}))

# ---------------------------------------------------------------- HubSpot (signature v3)
# X-HubSpot-Signature-v3: base64 HMAC-SHA256 of method + URI + body + timestamp (ms),
# the URI with HubSpot's listed escapes decoded (here %3A in the query).
HUBSPOT_URL = "https://hooks.example.com/hooks/hubspot?portal=62515&route=crm%3Acontacts"
def hubspot(name, events):
    body = compact(events)
    uri = HUBSPOT_URL.replace("%3A", ":")
    mac = base64.b64encode(hmac.new(SECRET, b"POST" + uri.encode() + body + str(TS_MS).encode(), hashlib.sha256).digest()).decode()
    case("hubspot", name, body, {"Content-Type": "application/json", "X-HubSpot-Request-Timestamp": str(TS_MS),
         "X-HubSpot-Signature-v3": mac}, url=HUBSPOT_URL)
def hs(eid, typ, obj, **kw):
    return {"eventId": eid, "subscriptionId": 12345, "portalId": 62515, "appId": 54321, "occurredAt": TS_MS,
            "subscriptionType": typ, "attemptNumber": 0, "objectId": obj, "changeSource": "CRM", **kw}
hubspot("batch-contact-created-and-updated", [hs(1, "contact.creation", 123, changeFlag="NEW"),
        hs(2, "contact.propertyChange", 123, propertyName="email", propertyValue="jane@example.com")])
hubspot("conversation-new-message", [hs(3, "conversation.newMessage", 1234567, messageId="5f2e9d7c1a3b4c5d6e7f8a9b", messageType="MESSAGE", changeFlag="NEW_MESSAGE")])
hubspot("batch-with-unmapped-deal", [hs(4, "conversation.creation", 1234568), hs(5, "deal.creation", 456, changeFlag="CREATED")])

# ---------------------------------------------------------------- Front (application webhooks)
# X-Front-Signature: base64 HMAC-SHA256 of "{X-Front-Request-Timestamp}:{body}" (ms);
# saving the webhook sends {type: sync} with X-Front-Challenge, answered with it.
def front(name, obj, extra=None):
    body = compact(obj)
    mac = base64.b64encode(hmac.new(SECRET, str(TS_MS).encode() + b":" + body, hashlib.sha256).digest()).decode()
    case("front", name, body, {"Content-Type": "application/json", "X-Front-Request-Timestamp": str(TS_MS),
         "X-Front-Signature": mac, **(extra or {})})
front("sync-challenge", {"type": "sync", "authorization": {"id": "cmp_abc"}}, {"X-Front-Challenge": "a8c1b3e2f4d6"})
FRONT_CONV = {"_links": {"self": "https://yourCompany.api.frontapp.com/conversations/cnv_55c8c149"}, "id": "cnv_55c8c149",
              "subject": "Order 4521 never arrived", "status": "unassigned", "assignee": None,
              "recipient": {"_links": {"related": {"contact": "https://yourCompany.api.frontapp.com/contacts/crd_55c8c149"}}, "handle": "anna@example.com", "role": "from"},
              "tags": [], "created_at": 1767225500.0}
def front_event(typ, eid, kind, target):
    return {"type": typ, "authorization": {"id": "cmp_abc"}, "payload": {"_links": {"self": "https://yourCompany.api.frontapp.com/events/" + eid},
            "id": eid, "type": kind, "emitted_at": 1767225600.0, "conversation": FRONT_CONV, "source": {"_meta": {"type": "inboxes"}, "data": []},
            "target": target}}
front("inbound-received", front_event("inbound_received", "evt_55c8c149", "inbound", {"_meta": {"type": "message"}, "data": {
      "_links": {"self": "https://yourCompany.api.frontapp.com/messages/msg_1q15qmtq"}, "id": "msg_1q15qmtq", "type": "email",
      "is_inbound": True, "created_at": 1767225600.0, "blurb": "Hi, my order 4521 never arrived.",
      "author": None, "recipients": [{"handle": "anna@example.com", "role": "from"}, {"handle": "support@example.com", "role": "to"}]}}))
front("outbound-sent", front_event("outbound_sent", "evt_55c8c150", "outbound", {"_meta": {"type": "message"}, "data": {
      "_links": {"self": "https://yourCompany.api.frontapp.com/messages/msg_1q15qmtr"}, "id": "msg_1q15qmtr", "type": "email",
      "is_inbound": False, "created_at": 1767225600.0, "blurb": "Sorry about that, a new one is on its way.",
      "author": {"id": "tea_55c8c149", "email": "leela@example.com", "username": "leela", "first_name": "Leela", "last_name": "Turanga"},
      "recipients": [{"handle": "support@example.com", "role": "from"}, {"handle": "anna@example.com", "role": "to"}]}}))
front("conversation-archived", front_event("conversation_archived", "evt_55c8c151", "archive", None))

# ---------------------------------------------------------------- Crisp (web hooks)
# X-Crisp-Signature: hex HMAC-SHA256 of "[{X-Crisp-Request-Timestamp};{body}]" (Crisp's SDKs).
def crisp(name, obj):
    body = compact(obj)
    mac = hmac.new(SECRET, b"[%d;" % TS_MS + body + b"]", hashlib.sha256).hexdigest()
    case("crisp", name, body, {"Content-Type": "application/json", "X-Crisp-Request-Timestamp": str(TS_MS), "X-Crisp-Signature": mac})
CRISP_SITE = "42286ab3-b29a-4fde-8538-da0ae501d825"
CRISP_SESSION = "session_36ba3566-9651-4790-afc8-ffedbccc317f"
def crisp_msg(event, frm, content, fp, user):
    return {"website_id": CRISP_SITE, "event": event, "data": {"website_id": CRISP_SITE, "session_id": CRISP_SESSION, "type": "text",
            "content": content, "from": frm, "origin": "chat", "stamped": True, "timestamp": TS_MS, "fingerprint": fp, "user": user},
            "timestamp": TS_MS}
crisp("message-send", crisp_msg("message:send", "user", "Hey :)", 150698569649423, {"nickname": "visitor493603", "user_id": CRISP_SESSION}))
crisp("message-received", crisp_msg("message:received", "operator", "Hello! How can I help?", 150698569649424,
      {"nickname": "Baptiste", "user_id": "aa0b6ca2-1b3d-4f2a-9a9e-2b6b2d0b7b1e"}))
crisp("session-set-email", {"website_id": CRISP_SITE, "event": "session:set_email", "data": {"website_id": CRISP_SITE,
      "session_id": CRISP_SESSION, "email": "visitor@example.com"}, "timestamp": TS_MS})

# ---------------------------------------------------------------- Sunshine Conversations (webhooks v2)
# X-API-Key: the webhook's secret itself; events[] batched.
def sunco(name, obj):
    case("sunshine-conversations", name, compact(obj), {"Content-Type": "application/json", "X-API-Key": SECRET.decode()})
SUNCO_CONV = {"id": "c7f8a3b2e1d04f5a9b6c2d1e", "type": "personal", "brandId": "f0e1d2c3b4a5968778695a4b", "activeSwitchboardIntegration": {
              "id": "5ef21b86e933b7355c11c604", "name": "zd-agentWorkspace", "integrationId": "5ef21b86e933b7355c11c605", "integrationType": "zd:agentWorkspace"}}
def sunco_msg(eid, mid, author, text):
    return {"id": eid, "createdAt": "2026-01-01T00:00:00.000Z", "type": "conversation:message", "payload": {"conversation": SUNCO_CONV,
            "message": {"id": mid, "received": "2026-01-01T00:00:00.000Z", "author": author, "content": {"type": "text", "text": text},
                        "source": {"type": "whatsapp", "integrationId": "5e1f438bf99fb467810c0ab9"}}}}
SUNCO_USER = {"userId": "a1b2c3d4e5f60718293a4b5c", "displayName": "Steve Jobs", "type": "user",
              "user": {"id": "a1b2c3d4e5f60718293a4b5c", "externalId": "steve-42"}}
sunco("batch-messages", {"app": {"id": "5698edbf2a43bd081be982f1"}, "webhook": {"id": "5e554b5ae7ea8a5e58ba7bc3", "version": "v2"},
      "events": [sunco_msg("5e554b5ae7ea8a5e58ba7bc4", "5e554b5a0b8c3f0012a1b2c3", SUNCO_USER, "Hello!"),
                 sunco_msg("5e554b5ae7ea8a5e58ba7bc5", "5e554b5a0b8c3f0012a1b2c4", {"type": "business", "displayName": "Acme Support"}, "Hi Steve, how can we help?"),
                 {"id": "5e554b5ae7ea8a5e58ba7bc6", "createdAt": "2026-01-01T00:00:00.000Z", "type": "conversation:create",
                  "payload": {"conversation": SUNCO_CONV, "creationReason": "message", "user": SUNCO_USER["user"]}}]})
sunco("conversation-read-is-dead-lettered", {"app": {"id": "5698edbf2a43bd081be982f1"}, "webhook": {"id": "5e554b5ae7ea8a5e58ba7bc3", "version": "v2"},
      "events": [{"id": "5e554b5ae7ea8a5e58ba7bc7", "createdAt": "2026-01-01T00:00:00.000Z", "type": "conversation:read",
                  "payload": {"conversation": SUNCO_CONV, "user": SUNCO_USER["user"], "source": {"type": "whatsapp"}, "activity": {"type": "conversation:read"}}}]})

# ---------------------------------------------------------------- Bird (channels)
# messagebird-signature: base64 HMAC-SHA256 of "{timestamp}\n{url}\n{sha256(body), raw}"
# with messagebird-request-timestamp (seconds); the URL is the subscription's.
BIRD_URL = "https://hooks.example.com/hooks/bird"
def bird(name, obj):
    body = compact(obj)
    signed = str(TS).encode() + b"\n" + BIRD_URL.encode() + b"\n" + hashlib.sha256(body).digest()
    mac = base64.b64encode(hmac.new(SECRET, signed, hashlib.sha256).digest()).decode()
    case("bird", name, body, {"Content-Type": "application/json", "messagebird-request-timestamp": str(TS),
         "messagebird-signature": mac}, url=BIRD_URL)
BIRD_WS = "c8e4c4d9-0b6f-4a3e-9a2e-3f1b2c4d5e6f"
BIRD_CH = "a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d"
def bird_msg(event, mid, direction, status, sender, receiver, text):
    return {"service": "channels", "event": event, "payload": {"id": mid, "channelId": BIRD_CH, "sender": sender, "receiver": receiver,
            "body": {"type": "text", "text": {"text": text}}, "status": status, "direction": direction, "lastStatusAt": "2026-01-01T00:00:00.000Z",
            "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z", "workspaceId": BIRD_WS}}
BIRD_CONTACT = {"contact": {"id": "f1e2d3c4-b5a6-4798-8a9b-0c1d2e3f4a5b", "identifierKey": "phonenumber", "identifierValue": "+31612345678"}}
BIRD_CONNECTOR = {"connector": {"id": "3f2e1d0c-b9a8-4765-9432-10fedcba9876", "identifierValue": "+31201234567"}}
bird("whatsapp-inbound", bird_msg("whatsapp.inbound", "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "incoming", "delivered",
     BIRD_CONTACT, BIRD_CONNECTOR, "Hi, is my order on its way?"))
bird("sms-outbound-delivered", bird_msg("sms.outbound", "8b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e", "outgoing", "delivered",
     BIRD_CONNECTOR, {"contacts": [{"id": "f1e2d3c4-b5a6-4798-8a9b-0c1d2e3f4a5b", "identifierKey": "phonenumber", "identifierValue": "+31612345678"}]},
     "Your order ships today."))
bird("sms-outbound-sent", bird_msg("sms.outbound", "8b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e", "outgoing", "sent",
     BIRD_CONNECTOR, {"contacts": [{"id": "f1e2d3c4-b5a6-4798-8a9b-0c1d2e3f4a5b", "identifierKey": "phonenumber", "identifierValue": "+31612345678"}]},
     "Your order ships today."))
bird("whatsapp-outbound-failed", {**bird_msg("whatsapp.outbound", "9c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f", "outgoing", "failed",
     BIRD_CONNECTOR, {"contacts": [{"id": "f1e2d3c4-b5a6-4798-8a9b-0c1d2e3f4a5b", "identifierKey": "phonenumber", "identifierValue": "+31612345678"}]},
     "Your order ships today.")})

print("fixtures written")
