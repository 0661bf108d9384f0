#!/usr/bin/env python3
"""Writes the hand-written hostile seeds of fuzz/corpus/<target>/hostile_* (docs/fuzzing.md).

    python3 fuzz/make_hostile_seeds.py [FINDINGS_DIR]

Seeds that crash current code (KNOWN_CRASHES) are written to FINDINGS_DIR/<target>/ instead
(default: none written), so that the committed corpus always replays clean; move one into the
corpus with the fix that makes it pass.
"""
import json
import os
import sys

C = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus')
FINDINGS = sys.argv[1] if len(sys.argv) > 1 else None
# target/file -> what crashes (the report that goes with it names file and line).
KNOWN_CRASHES = {
    # Empty: every seed found crashing by the first runs (20-digit timestamps, lone surrogates,
    # 30,000-deep bodies, 1e300 from a member) was fixed with issue 8 and is in the corpus.
}


def w(t, name, data):
    if isinstance(data, str):
        data = data.encode('utf-8', 'surrogateescape')
    key = t + '/' + name
    if key in KNOWN_CRASHES:
        if not FINDINGS:
            return
        out = os.path.join(FINDINGS, t)
    else:
        out = os.path.join(C, t)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, name), 'wb') as f:
        f.write(data)

D=30000
deep_arr = '['*D + ']'*D
deep_obj = '{"a":'*D + '1' + '}'*D
big = '123456789012345678901'  # 21 digits
n20 = '99999999999999999999'   # 20 digits
bad_utf8 = b'\xc0\xaf \xed\xa0\x80 \xf5\x80\x80\x80 \xff\xfe \xe2\x82'
# ---- misp_event
w('misp_event','hostile_deep_array.json', deep_arr)
w('misp_event','hostile_deep_request.json', '{"request":' + deep_arr + '}')
w('misp_event','hostile_deep_event_value.json', '{"Event":{"info":"x","Attribute":[{"type":"ip-dst","value":' + '['*D + ']'*D + '}]}}')
w('misp_event','hostile_20digit_timestamp.json', '{"Event":{"info":"x","timestamp":"%s","Attribute":[{"type":"ip-dst","value":"1.2.3.4","timestamp":"%s"}]}}' % (n20, n20))
w('misp_event','hostile_20digit_numbers.json', '{"Event":{"info":"x","threat_level_id":%s,"distribution":%s,"analysis":-%s,"Attribute":[{"type":"ip-dst","value":"1.2.3.4","distribution":%s,"to_ids":%s}]}}' % (n20,big,n20,n20,big))
w('misp_event','hostile_invalid_utf8.json', b'{"Event":{"info":"' + bad_utf8 + b'","Attribute":[{"type":"domain","value":"ex\xffample.com","comment":"' + bad_utf8 + b'"}]}}')
w('misp_event','hostile_nul.json', b'{"Event":{"info":"a\x00b","Attribute":[{"type":"ip-dst","value":"1.2.3.4\\u0000"},{"type":"domain","value":"a\\u0000.com"}]}}\x00\x00')
w('misp_event','hostile_wrong_types.json', '{"Event":{"info":{},"uuid":[],"date":5,"published":"maybe","Tag":{"name":1},"Attribute":{"type":"ip-dst","value":"1.2.3.4"},"Object":[1,{"name":{},"Attribute":{}},{"Attribute":[{"type":[],"value":{}}]}]}}')
w('misp_event','hostile_attribute_list.json', '[{"type":"ip-dst","value":"1.2.3.4"},{"type":"url","value":"hxxp://bad[.]example/a"},{"type":"domain|ip","value":"a.example|::ffff:1.2.3.4"},{"type":"nosuchtype","value":"x"},null,[],"x"]')
w('misp_event','hostile_crlf.json', '{"Event":\r\n{"info":"line\\r\\nbreak",\r"Attribute":[\r\n{"type":"ip-dst","value":"1.2.3.4\\r\\n"}]}}\r\n')
# ---- misp_feed
w('misp_feed','hostile_deep_list.json', '{"name":"x","type":"string","list":' + deep_arr + '}')
w('misp_feed','hostile_manifest_wrong_types.json', '{"5a0a9aa9-23a4-4607-b6df-41a9950d210f":{"info":[],"Orgc":"x","Tag":{},"date":5,"timestamp":"%s","analysis":%s,"threat_level_id":"%s"}}' % (n20, big, big))
w('misp_feed','hostile_warninglist_types.json', '{"name":"x","type":"cidr","matching_attributes":["ip-src",1,{}],"list":["1.2.3.4/99","::/0","0.0.0.0/0","300.1.1.1","1.2.3.4/-1","%s","", "1.2.3.4/33\\u0000"]}' % n20)
w('misp_feed','hostile_warninglist_invalid_utf8.json', b'{"name":"\xff","type":"hostname","list":["a.\xc0\xafexample","\xed\xa0\x80.com","xn--\xf5.com"]}')
w('misp_feed','hostile_regex_list.json', '{"name":"x","type":"regex","list":["(a+)+$","[","\\\\","(?<x>a)\\\\k<x>","' + '('*500 + ')'*500 + '",".{99999}"]}')
w('misp_feed','hostile_hashes.csv', 'd41d8cd98f00b204e9800998ecf8427e,56bf399d-c46c-4fdb-a9cf-d9bb02de0b81\r\nd41d8cd98f00b204e9800998ecf8427e,\r\n,\n\x00,\x00\n')
# ---- text_feed
w('text_feed','hostile_crlf.csv', 'type,value\r\r\nip-dst,1.2.3.4\r\r\ndomain,a.example\r\n\rurl,"http://x/\r\n"\n\r')
w('text_feed','hostile_unterminated_quote.csv', 'type,value,comment\nip-dst,1.2.3.4,"never closed\nip-dst,5.6.7.8,x\n')
w('text_feed','hostile_invalid_utf8.txt', b'# \xff\xfe\n1.2.3.4\n\xc0\xaf.example\nexa\xed\xa0\x80mple.com\nhxxp://bad[.]ex\xf5ample/\n')
w('text_feed','hostile_nul.txt', b'1.2.3.4\x00\n\x00\nevil.example\x00.com\n5.6.7.8\n')
w('text_feed','hostile_ipsum_counts.txt', '1.2.3.4\t%s\n5.6.7.8\t-1\n9.9.9.9\t%s\n8.8.8.8\t\n1.1.1.1\t1e9\n' % (n20, big))
w('text_feed','hostile_long_line.txt', 'a'*60000 + '.example\n' + '1.' * 20000 + '\n')
w('text_feed','hostile_many_columns.csv', ','.join(['type']*300) + ',value\n' + ','*5000 + '\n')
w('text_feed','hostile_japanese.txt', '悪性ドメイン: evil[.]example\n１．２．３．４\nhxxps://例え.テスト/パス\n')
# ---- stix
w('stix','hostile_deep_array.json', '{"type":"bundle","objects":' + deep_arr + '}')
w('stix','hostile_patterns.json', json.dumps({"type":"bundle","id":"bundle--1","objects":[
  {"type":"indicator","spec_version":"2.1","id":"indicator--1","pattern_type":"stix","pattern":p,"valid_from":v} for p,v in [
   ("[ipv4-addr:value = '1.2.3.4']", "2024-01-01T00:00:00Z"),
   ("[ipv4-addr:value = '1.2.3.4'", n20),
   ("[domain-name:value = 'a\\'b.example'] OR [url:value = 'http://x/\\\\']", "9999-99-99"),
   ("(" * 2000 + "[ipv4-addr:value = '1.2.3.4']" + ")" * 2000, ""),
   ("[file:hashes.'SHA-256' = '" + "a"*64 + "'] AND [file:hashes.MD5 = 'zz']", None),
   ("[network-traffic:dst_ref.value = '1.2.3.4' AND network-traffic:dst_port = " + big + "]", "x"),
   ("[email-addr:value = '\\u0000@x']", "2024-13-45T25:61:61Z"),
   ("", ""), ("[", "]"), ("[a:b = '", "")]]}))
w('stix','hostile_invalid_utf8.json', b'{"type":"bundle","objects":[{"type":"indicator","pattern":"[domain-name:value = \'\xff.example\']"}]}')
# ---- query_reader
w('query_reader','hostile_invalid_utf8.txt', b'\xff\xfe1.2.3.4\n\xc0\xafa.example\n' + bad_utf8 + b'\n')
w('query_reader','hostile_crlf_nul.txt', b'1.2.3.4\r\r\n\r\nevil[.]example\x00\r5.6.7.8\n\x00\n')
w('query_reader','hostile_typed.csv', 'type,value,first_seen\nip-port,1.2.3.4:99999,%s\nurl-noscheme,bad.example/x,2024-13-45\nmd5,zz,\n"ip-dst","1.2.3.4""",""\n,,,,,\n' % n20)
w('query_reader','hostile_japanese.txt', '以下のIoCを確認: evil[.]example と 1.2.3[.]4\n' + 'あ'*3000 + '\n')
w('query_reader','hostile_long_line.txt', 'x'*70000 + '\n')
# ---- search_params
sp = {
 'value_list.json': {"returnFormat":"json","value":["1.2.3.4","!5.6.7.8"],"type":{"OR":["ip-dst"],"NOT":["ip-src"]},"limit":10,"page":2,"to_ids":1},
 'request_wrapped.json': {"request":{"value":"a.example||b.example&&!c.example","last":"7d","published":True,"includeEventTags":"1"}},
 'times.json': {"value":"x","timestamp":["2024-01-01","2024-12-31 10:00:00"],"from":"2024-01-01","to":"2024-02-01","publish_timestamp":"12h","first_seen":"1700000000","last_seen":1700000000},
 'hostile_wrong_types.json': {"value":{},"limit":"ten","page":[],"order":{},"includeContext":"yes","from":5,"to":{},"deleted":[0,1],"published":"x"},
 'hostile_null_value.json': {"value":None,"type":None},
 'hostile_limits.json': {"value":"x","limit":-1,"page":0.5},
}
for k,v in sp.items(): w('search_params', k, json.dumps(v))
w('search_params','hostile_20digit_numbers.json', '{"value":"x","limit":%s,"page":%s,"timestamp":%s,"eventid":%s}' % (n20, big, n20, n20))
w('search_params','hostile_20digit_strings.json', '{"value":"x","limit":"%s","page":"%s","timestamp":"%s","last":"%sd"}' % (n20, big, n20, n20))
w('search_params','hostile_deep_value.json', '{"value":' + '{"OR":'*15000 + '"x"' + '}'*15000 + '}')
w('search_params','hostile_deep_request.json', '{"request":' + deep_arr + '}')
w('search_params','hostile_deep_array.json', deep_arr)
w('search_params','hostile_deep_unknown_key.json', '{"value":"x","ignored":' + deep_arr + '}')
w('search_params','hostile_invalid_utf8.json', b'{"value":"\xff\xfe","type":"\xc0\xaf"}')
# ---- grid_request
w('grid_request','array.json', '["1.2.3.4","evil.example","http://bad.example/login","203.0.113.7"]')
w('grid_request','object.json', json.dumps({"indicators":[{"value":"198.51.100.9","type":"ip-dst"},{"value":"mail.evil.example"},"d41d8cd98f00b204e9800998ecf8427e"],"relations":["exact","in-range","subdomain"],"since":"2020-01-01","until":None,"max_hits_per_indicator":1,"include_misses":True}))
w('grid_request','ndjson.txt', '"1.2.3.4"\n{"value":"evil.example","type":"domain"}\n203.0.113.7\nhxxp://bad[.]example/login\n\n  ceo@evil.example  \r\n')
w('grid_request','query_options.txt', '?since=7d&until=2030-01-01&relations=exact,in-range&max_hits_per_indicator=5&include_misses=1\n203.0.113.7\n198.51.100.1\n')
w('grid_request','hostile_query_options.txt', '?since=%s&relations=nope&max_hits_per_indicator=%s\n1.2.3.4\n' % (n20, n20))
w('grid_request','hostile_options.json', '{"indicators":[],"since":%s,"until":{},"relations":"exact","max_hits_per_indicator":-1,"include_misses":"yes"}' % n20)
w('grid_request','hostile_deep_array.json', deep_arr)
w('grid_request','hostile_deep_ndjson.txt', '{"value":' + deep_arr + '}\n')
w('grid_request','hostile_invalid_utf8.txt', b'1.2.3.4\n\xff\xfe.example\n\xc0\xaf\n')
w('grid_request','hostile_surrogate_ndjson.txt', b'\xed\xa0\x80\n\xf4\x90\x80\x80\n\xe0\x80\xaf\nx\xf0\x80\x80\xafy\n')
w('grid_request','hostile_nul_crlf.txt', b'1.2.3.4\x00\r\n\r\r\n\x00\nevil.example\r\r\n')
w('grid_request','hostile_many.txt', '\n'.join('10.0.%d.%d' % (i // 256, i % 256) for i in range(1200)) + '\n')
# ---- member_reply
hit = {"relation":"exact","matched":"1.2.3.4","type":"ip-dst","category":"Network activity","to_ids":True,"comment":"c2","attribute_id":"1","attribute_uuid":"u","timestamp":1700000000,"first_seen":None,"last_seen":"2024-01-31T12:00:00.000000+00:00","sightings":3,"event":{"id":"1","uuid":"e","info":"i","date":"2024-01-31","org":"o","threat_level_id":4,"published":False},"tags":["tlp:white"]}
lines = [{"i":0,"query":"1.2.3.4","type":"ip-dst","normalized":"1.2.3.4","hits":[hit]},{"i":3,"query":"x","error":"bad"},{"i":5,"query":"a.example","type":"domain","normalized":"a.example","hits":[dict(hit, relation="subdomain")],"truncated":True},{"done":True,"indicators":8,"matched":2,"hits":2,"invalid":1,"elapsed_us":12}]
w('member_reply','grid_answer.ndjson', ''.join(json.dumps(l)+'\n' for l in lines))
w('member_reply','grid_answer_cut.ndjson', json.dumps(lines[0]) + '\n{"i":5,"query')
w('member_reply','misp_attributes.json', json.dumps({"response":{"Attribute":[{"id":"1","event_id":"2","type":"ip-dst","category":"Network activity","value":"1.2.3.4","to_ids":True,"uuid":"u","timestamp":"1700000000","deleted":False,"first_seen":None,"comment":"","Event":{"id":"2","uuid":"e","info":"i","date":"2024-01-01","Orgc":{"name":"o"}},"Tag":[{"name":"tlp:green"}]}]}}))
w('member_reply','misp_empty.json', '{"response": []}')
w('member_reply','stats.json', '{"attributes": 123, "first_date": "2016-01-01", "last_date": "2024-05-05"}')
w('member_reply','version.json', '{"version": "2.5.1", "perm_sync": true}')
w('member_reply','error_body.json', '{"name":"Authentication failed.","message":"Authentication failed. Please make sure you pass the API key","url":"/attributes/restSearch"}')
w('member_reply','hostile_grid_indices.ndjson', '{"i":-1,"hits":[{"matched":"x"}]}\n{"i":%s,"hits":[]}\n{"i":8,"hits":[{}]}\n{"i":1.5,"hits":[{"timestamp":%s,"sightings":-%s}]}\n{"done":true}\n' % (n20, big, n20))
w('member_reply','hostile_deep.ndjson', deep_arr + '\n{"done":true}\n')
w('member_reply','hostile_deep_misp.json', '{"response":{"Attribute":' + deep_arr + '}}')
w('member_reply','hostile_invalid_utf8.ndjson', b'{"i":0,"hits":[{"matched":"\xff\xfe"}]}\n{"done":true}\n')
w('member_reply','hostile_float_timestamp.ndjson', '{"i":0,"query":"1.2.3.4","type":"ip-dst","normalized":"1.2.3.4","hits":[{"relation":"exact","matched":"1.2.3.4","type":"ip-dst","timestamp":1e300}]}\n{"done":true}\n')
w('member_reply','hostile_float_misp.json', '{"response":{"Attribute":[{"value":"1.2.3.4","type":"ip-dst","timestamp":-1e300}]}}')
w('member_reply','hostile_float_in_range.ndjson', '{"i":1.0,"hits":[{"matched":"1.2.3.4","timestamp":1.7e9,"sightings":-0.5}]}\n{"done":true}\n')
w('member_reply','hostile_error_long.json', '{"message":"' + 'x'*5000 + '"}')
w('member_reply','hostile_misp_types.json', '{"response":{"Attribute":[{"value":{},"timestamp":"%s","Event":[],"Tag":{}},{"value":"1.2.3.4","type":5,"deleted":"1","timestamp":%s}]}}' % (n20, big))
info = {"version":1,"suite":"ristretto255-SHA512-2HashDH","tag_bytes":11,"epoch":1,"key_created":"2026-12-01T00:00:00Z","ranges":{"v4":[16,24,32],"v6":[32,48,64,128]},"below":{"v4":[16,24],"v6":[48,64]},"max_rounding_bits":8,"generation":12,"tags":30000,"below_tags":2000,"pending":0,"ready":True,"modes":["full-set","bucketed"],"label_context":"full","label_max_entries":64,"limits":{"evaluations_per_day":1000000,"evaluations_left_today":999000,"max_points_per_request":65536,"max_labels_per_request":4096,"max_buckets_per_request":65536,"max_tags_per_page":262144,"max_bucket_tags":1048576,"max_bucket_bits":24}}
w('member_reply','psi_info.json', json.dumps(info))
w('member_reply','psi_label.json', json.dumps({"v":1,"class":"value","total":2,"truncated":False,"hits":[dict(hit), {"matched":"evil.example","type":"domain"}]}))
w('member_reply','hostile_psi_info_limits.json', json.dumps(dict(info, epoch=0, limits=dict(info["limits"], max_points_per_request=0, max_bucket_bits=99))).replace('99', big))
w('member_reply','hostile_psi_info_types.json', json.dumps(dict(info, ranges={"v4":"16","v6":[-1, 129, 1.5]}, below=[], modes={"a":1}, tags=-5, limits=dict(info["limits"], max_tags_per_page="many"))))
w('member_reply','hostile_psi_info_deep.json', '{"version":1,"tag_bytes":11,"epoch":1,"ranges":' + deep_obj + '}')
w('member_reply','hostile_psi_label.json', b'{"v":1,"hits":[{"matched":"\xff\xfe","type":"ip-dst","timestamp":' + big.encode() + b'},{"matched":{},"type":7},[],null]}')
w('member_reply','hostile_psi_label_deep.json', '{"v":1,"hits":' + deep_arr + '}')
# ---- portal_config
w('portal_config','members.toml', 'listen = "127.0.0.1:8080"\ndata = "portal-data"\nmax_running_searches = 8\nsearch_timeout_ms = 30000\ntime_gap_days = 365\n\n[[members]]\nname = "anonymity"\nkind = "iocgrid"\nurl = "https://node-a.example:8443/"\nkey = "k1"\nca_file = "ca.pem"\ntimeout_ms = 5000\ndisclosure = "full"\n\n[[members]]\nname = "circl"\ndisplay_name = "CIRCL MISP"\nsector = "national CERT"\nkind = "misp"\nurl = "https://misp.example"\nkey_env = "IOCGRID_FUZZ_UNSET"\nbatch_size = 50\nmax_concurrent = 2\n')
w('portal_config','private_members.toml', 'max_private_tags = 100000\nprivate_evaluations_per_user_day = 5000\n[[members]]\nname = "p"\nurl = "https://x"\nkey = "k"\ndisclosure = "private"\npsi_mode = "bucketed"\n')
w('portal_config','hostile_private.toml', 'max_private_tags = %s\nprivate_evaluations_per_user_day = -1\n[[members]]\nname = "p"\nkind = "misp"\nurl = "https://x"\nkey = "k"\ndisclosure = "private"\npsi_mode = ["full-set"]\n[[members]]\nname = "q"\nurl = "https://y"\nkey = "k"\npsi_mode = "\xff"\n' % big)
w('portal_config','hostile_numbers.toml', 'max_running_searches = %s\nmax_indicators = -%s\nsearch_timeout_ms = 9223372036854775807\ntime_gap_days = 99999999999\nretries = -9223372036854775808\nbreaker_open_ms = 9223372036854775807\n[[members]]\nname = "a"\nurl = "https://x"\nkey = "k"\ntimeout_ms = 9223372036854775807\nmax_concurrent = -1\nbatch_size = -5\nmax_response_mb = 9223372036854775807\n' % ('9'*19, '9'*18))
w('portal_config','hostile_deep.toml', 'a = ' + '['*2000 + ']'*2000 + '\n')
w('portal_config','hostile_deep_tables.toml', '[' + '.'.join(['t']*3000) + ']\nx = 1\n')
w('portal_config','hostile_invalid_utf8.toml', b'listen = "\xff\xfe"\n[[members]]\nname = "\xc0\xaf"\nurl = "https://\xed\xa0\x80"\nkey = "k"\n')
w('portal_config','hostile_crlf_nul.toml', b'listen = "127.0.0.1:1"\r\r\ndata = "a\x00b"\r\n[[members]]\rname="a"\n')
w('portal_config','hostile_types.toml', 'members = 5\nlisten = 80\n')
w('portal_config','hostile_member_types.toml', '[[members]]\nname = ""\n[[members]]\nname = "b"\nurl = "https://y"\nkey = "k"\nverify_tls = "no"\nenabled = 1\ndisclosure = "everything"\nkind = "opencti"\n')
# ---- http_request
hr = {
 'get_query.http': b'GET /attributes/restSearch.json?since=7d&relations=exact%2Cin-range&q=a+b HTTP/1.1\r\nHost: x\r\nAuthorization: key\r\n\r\n',
 'post_body.http': b'POST /attributes/restSearch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r\n{"value":"1.2.3"}',
 'chunked.http': b'POST /grid/v1/match HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n1.2.3\r\n3;ext=1\r\n.4\n\r\n0\r\nTrailer: x\r\n\r\n',
 'view_id.http': b'GET /events/view/%35%36.json HTTP/1.1\r\nHost: x\r\n\r\n',
 'delete.http': b'DELETE /api/v1/searches/abc HTTP/1.1\r\nHost: x\r\n\r\n',
 'hostile_path_traversal.http': b'GET //etc/passwd HTTP/1.1\r\nHost: x\r\n\r\nGET /%2Fetc%2Fpasswd HTTP/1.1\r\n\r\n',
 'hostile_dotdot.http': b'GET /events/view/..%2F..%2Fetc%2Fpasswd HTTP/1.1\r\nHost: x\r\n\r\n',
 'hostile_nul_target.http': b'GET /events/view/1%00.json?x=%00 HTTP/1.1\r\nHost: x\r\n\r\n',
 'hostile_invalid_utf8_path.http': b'GET /events/view/%ff%fe%c0%af HTTP/1.1\r\nHost: x\r\n\r\n',
 'hostile_bare_lf.http': b'GET /servers/getVersion HTTP/1.1\nHost: x\n\n',
 'hostile_obs_fold.http': b'GET /servers/getVersion HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n',
 'hostile_huge_length.http': b'POST /grid/v1/match HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n',
 'hostile_two_lengths.http': b'POST /grid/v1/match HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\nab',
 'hostile_chunk_size.http': b'POST /grid/v1/match HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nx\r\n0\r\n\r\n',
 'hostile_percent.http': b'GET /%?%=%%&since=%zz&relations=%2&q=%%41 HTTP/1.1\r\n\r\n',
 'hostile_long_header.http': b'GET / HTTP/1.1\r\nX-Long: ' + b'a'*17000 + b'\r\n\r\n',
 'hostile_cr_only.http': b'GET / HTTP/1.1\rHost: x\r\r',
 'hostile_method.http': b'G\x00T /events/view/1 HTTP/1.1\r\n\r\nBREW /x HTTP/1.0\r\n\r\n',
}
for k,v in hr.items(): w('http_request', k, v)
# ---- psi_frame (psi/wire.h: the binary private-search frames)
import struct


def psi_frame(kind, items, param=0, epoch=1, count=None, g=0, i=0, reserved=0):
    n = len(items) if count is None else count
    return (b'IGP1' + bytes([kind, param]) + struct.pack('>HIIQQ', reserved, epoch, n, g, i) +
            b''.join(items))


pt = bytes(range(32))
tag = bytes(range(11))
pf = {
 'points.bin': psi_frame(1, [pt, bytes(32)]),
 'tags.bin': psi_frame(2, [tag, tag[::-1]]),
 'tag_changes.bin': psi_frame(3, [tag + b'\0', tag + b'\1'], param=1, g=7, i=99),
 'buckets.bin': psi_frame(4, [struct.pack('>I', 3), struct.pack('>I', 65535)], param=16),
 'labels.bin': psi_frame(5, [tag + struct.pack('>I', 5) + b'hello', tag + struct.pack('>I', 0)]),
 'empty.bin': psi_frame(2, []),
 'hostile_huge_count.bin': psi_frame(1, [], count=0xffffffff),
 'hostile_label_length_past_end.bin': psi_frame(5, [tag + struct.pack('>I', 0x7fffffff) + b'x']),
 'hostile_bucket_out_of_bits.bin': psi_frame(4, [struct.pack('>I', 256)], param=8),
 'hostile_reserved.bin': psi_frame(2, [tag], reserved=1),
 'hostile_truncated.bin': psi_frame(1, [pt])[:-1],
 'hostile_trailing.bin': psi_frame(2, [tag]) + b'\0',
 'hostile_bad_magic.bin': b'IGP2' + psi_frame(2, [tag])[4:],
 'hostile_change_flag.bin': psi_frame(3, [tag + b'\2']),
}
for k,v in pf.items(): w('psi_frame', k, v)
# ---- staged_sightings (portal/internal/staged_sightings.h: alliance_pending.body)


def varint(v):
    out = b''
    while v >= 0x80:
        out += bytes([(v & 0x7f) | 0x80])
        v >>= 7
    return out + bytes([v])


def zigzag(v):
    return varint((v << 1) ^ (v >> 63) if v >= 0 else ((-v - 1) << 1) | 1)


def sstr(s):
    s = s.encode('utf-8', 'surrogateescape') if isinstance(s, str) else s
    return varint(len(s)) + s


def sighting(value, typ='ip-src', cls='noise', day=20003, first=0, last=0, count=1, alerted=0,
             members=(), actors=()):
    return (sstr(value) + sstr(typ) + sstr(cls) + zigzag(day) + zigzag(first) + zigzag(last) +
            varint(count) + varint(alerted) + varint(len(members)) + b''.join(map(sstr, members)) +
            varint(len(actors)) + b''.join(map(sstr, actors)))


def staged(items, count=None):
    return b'S' + varint(len(items) if count is None else count) + b''.join(items)


one = sighting('45.0.0.1', first=20003 * 86400, last=20003 * 86400 + 60, count=7, alerted=2,
               members=['honeypot'], actors=['misp-galaxy:threat-actor="APT10"'])
ss = {
 'one.bin': staged([one]),
 'two.bin': staged([one, sighting('evil.example', 'domain', 'threat', day=-1, count=2**64 - 1)]),
 'empty.bin': staged([]),
 'hostile_huge_count.bin': staged([], count=2**63),
 'hostile_varint_past_64_bits.bin': b'S' + b'\xff' * 10 + b'\x7f',
 'hostile_string_past_end.bin': staged([varint(2**31) + b'x']),
 'hostile_truncated.bin': staged([one])[:-1],
 'hostile_trailing.bin': staged([one]) + b'\0',
 'hostile_bad_magic.bin': b'T' + staged([one])[1:],
 'hostile_invalid_utf8.bin': staged([sighting(b'\xc0\xaf\xed\xa0\x80')]),
}
for k,v in ss.items(): w('staged_sightings', k, v)
