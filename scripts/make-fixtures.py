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
meta("whatsapp-cloud", "batch-is-dead-lettered", wa({"statuses": [
     {"id": "wamid.A", "status": "sent", "timestamp": "1767225612", "recipient_id": "1"},
     {"id": "wamid.B", "status": "sent", "timestamp": "1767225612", "recipient_id": "2"}]}))

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
print("fixtures written")
