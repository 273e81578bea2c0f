#!/usr/bin/env python3
"""Writes the seed corpus of each fuzz target (fuzz/corpus/<target>/) from
the project's own fixtures and a few hand-made inputs. Run from anywhere:
fuzz/make-corpus.py. The corpus is committed; the fuzzers add to it."""

import base64
import glob
import os
import re
import shutil
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CORPUS = os.path.join(ROOT, "fuzz", "corpus")


def target(name):
    path = os.path.join(CORPUS, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def write(directory, name, data):
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def copy(directory, pattern):
    for path in sorted(glob.glob(os.path.join(ROOT, pattern))):
        shutil.copy(path, os.path.join(directory, os.path.basename(path)))


def der(pem_path):
    text = open(os.path.join(ROOT, pem_path)).read()
    blocks = re.findall(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", text, re.S)
    return [base64.b64decode("".join(b.split())) for b in blocks]


# Snapshots: every fixture shape and encoding.
d = target("snapshot")
copy(d, "fixtures/snapshots/*.txt")
copy(d, "fixtures/snapshots/*.json")
copy(d, "fixtures/sample/contoso-lync2013.txt")
copy(d, "fixtures/tickets/*")

# Planned zones: every fixture format (BIND with its includes, Windows DNS
# Server, octoDNS, cloud listings).
d = target("zone")
copy(d, "fixtures/zones/*.zone")
copy(d, "fixtures/zones/windows/*")
for other in sorted(glob.glob(os.path.join(ROOT, "fixtures/zones/*/*")) + glob.glob(os.path.join(ROOT, "fixtures/zones/formats/*/*"))):
    kind = os.path.basename(os.path.dirname(other))
    if os.path.isfile(other) and kind not in ("windows", "formats"):
        shutil.copy(other, os.path.join(d, kind + "-" + os.path.basename(other)))
head = "$ORIGIN fuzz.test.\n$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 600 86400 300\n"
write(d, "generate-million", head + "$GENERATE 1-5000000 h$ A 192.0.2.1\n")
write(d, "include-self", head + "$INCLUDE fuzz.test.zone\n")
write(d, "cname-loop", head + "sip IN CNAME a\na IN CNAME sip\n_sipfederationtls._tcp IN SRV 0 0 5061 sip\n")
write(d, "control-names", head + "sip\\027[2J IN A 192.0.2.1\n")
write(d, "wildcard-ent", head + "*.fuzz.test. IN A 192.0.2.9\nx.y IN A 192.0.2.8\n")

# Rule files: the built-in pack.
d = target("rules")
copy(d, "rules/*.toml")

# Facts: the recorded sample, and a small hand-made one.
d = target("facts")
copy(d, "fixtures/sample/contoso.facts.json")
write(d, "small.json", '{"schema": "fedscan.facts/1", "tool_version": "0", "gathered_at": "2026-01-01T00:00:00Z", '
      '"inputs": {"domains": ["contoso.com"]}, "targets": {"domains": ["contoso.com"]}, "dns": [{"view": "external", '
      '"name": "_sipfederationtls._tcp.contoso.com", "type": "SRV", "resolver": "x", "outcome": "answer", "records": '
      '[{"name": "_sipfederationtls._tcp.contoso.com", "ttl": 300, "type": "SRV", "priority": 0, "weight": 0, '
      '"port": 5061, "target": "sip.contoso.com"}]}]}')

# Certificates: PEM files, and a leaf as DER.
d = target("certificate")
copy(d, "fixtures/certs/*.pem")
write(d, "good.der", der("fixtures/certs/good.pem")[0])


def record(kind, body):
    return bytes([kind, 3, 3]) + struct.pack(">H", len(body)) + body


def handshake(kind, body):
    return bytes([kind]) + struct.pack(">I", len(body))[1:] + body


# The legacy reader: a ServerHello and Certificate as a TLS 1.2 server sends
# them, an alert, and a certificate message split over records.
d = target("legacy_tls")
hello = handshake(2, b"\x03\x03" + bytes(32) + b"\x00\xc0\x2f\x00")
chain = b"".join(struct.pack(">I", len(c))[1:] + c for c in der("fixtures/certs/good.pem"))
certificate = handshake(11, struct.pack(">I", len(chain))[1:] + chain)
write(d, "hello-certificate", record(0x16, hello) + record(0x16, certificate) + record(0x16, handshake(14, b"")))
write(d, "split", record(0x16, (hello + certificate)[:100]) + record(0x16, (hello + certificate)[100:]))
write(d, "alert", record(0x15, b"\x02\x28"))
write(d, "not-tls", b"SIP/2.0 400 Bad Request\r\n\r\n")

# SIP responses.
d = target("sip_response")
write(d, "200", "SIP/2.0 200 OK\r\nVia: SIP/2.0/TLS 10.0.0.1:5061;branch=z9hG4bKx\r\nServer: RTC/6.0\r\n"
      "Allow: INVITE, OPTIONS\r\nContent-Length: 0\r\n\r\n")
write(d, "504-diagnostics", "SIP/2.0 504 Server time-out\r\nms-diagnostics: 1009;reason=\"Unable to route: no DNS SRV"
      " match\";source=\"sip.fabrikam.com\"\r\nServer: RTC/6.0\r\n\r\n")
write(d, "folded-compact", "SIP/2.0 403 Forbidden\nv: SIP/2.0/TLS 1.2.3.4\nk: ms-diagnostics\nms-diagnostics-public: "
      "1027;reason=\"federation\r\n  not allowed\"\n\n")
write(d, "not-sip", "HTTP/1.1 200 OK\r\n\r\n")

# SIP traces for `fedscan diagnose`.
d = target("sip_trace")
copy(d, "fixtures/traces/*")
write(d, "lone-header", "ms-diagnostics: 1034;reason=\"Previous hop federated peer did not report diagnostic information\"\n")
write(d, "unclosed-record", "$$begin_record\nStart-Line: SIP/2.0 504 Server time-out\nms-diagnostics: 1008\n")
write(d, "utf16", b"\xff\xfe" + "SIP/2.0 403 Forbidden\nCall-ID: x\nms-diagnostics: 1002\n\n".encode("utf-16-le"))


def name(text):
    return b"".join(bytes([len(label)]) + label.encode() for label in text.split(".")) + b"\x00"


def message(question, qtype, answers):
    header = struct.pack(">HHHHHH", 0x1234, 0x8180, 1, len(answers), 0, 0)
    body = name(question) + struct.pack(">HH", qtype, 1)
    for owner, rtype, rdata in answers:
        body += name(owner) + struct.pack(">HHIH", rtype, 1, 300, len(rdata)) + rdata
    return header + body


# DNS messages: SRV, A through a CNAME, and an answer carrying other names.
d = target("dns_answer")
srv = lambda p, w, port, t: struct.pack(">HHH", p, w, port) + name(t)
write(d, "srv", message("_sipfederationtls._tcp.contoso.com", 33,
                        [("_sipfederationtls._tcp.contoso.com", 33, srv(0, 0, 5061, "sip.contoso.com")),
                         ("_sipfederationtls._tcp.contoso.com", 33, srv(10, 5, 5061, "sip2.contoso.com"))]))
write(d, "cname-a", message("sip.contoso.com", 1, [("sip.contoso.com", 5, name("edge.contoso.net")),
                                                   ("edge.contoso.net", 1, bytes([52, 160, 10, 20]))]))
write(d, "foreign", message("sip.contoso.com", 1, [("sip.contoso.com", 1, bytes([127, 0, 0, 1])),
                                                   ("ghost.example", 28, bytes(15) + b"\x01"),
                                                   ("unrelated.example", 1, bytes([127, 0, 0, 77]))]))
