#!/usr/bin/env python3
"""Writes the request half of every fixture case (headers.json + body file) from
the provider documents in shared/provider-docs, signing each with Python's own
hmac module: an implementation independent of hookgate's. expected.json is
written by `hookgate check --bless` and reviewed by hand.

Run from the repository root: python3 scripts/make-fixtures.py
"""
import hashlib, hmac, json, os, base64

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

def case(provider, name, body, headers):
    d = os.path.join(ROOT, provider, name)
    os.makedirs(d, exist_ok=True)
    ext = "json"
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
print("fixtures written")
