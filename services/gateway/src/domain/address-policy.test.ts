import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { classifyAddress, unwrapMappedIpv4 } from "./address-policy.js";
import { parseAllowList } from "./allow-list.js";

describe("classifyAddress", () => {
  const cases: [string, string][] = [
    ["8.8.8.8", "public"],
    ["1.1.1.1", "public"],
    ["2606:4700:4700::1111", "public"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["172.32.0.1", "public"],
    ["192.168.1.1", "private"],
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["::1", "loopback"],
    ["[::1]", "loopback"],
    ["169.254.169.254", "link-local"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["100.64.0.1", "cgnat"],
    ["100.100.100.200", "cgnat"],
    ["224.0.0.1", "multicast"],
    ["ff02::1", "multicast"],
    ["0.0.0.0", "unspecified"],
    ["::", "unspecified"],
    ["fd00:ec2::254", "private"],
    ["fc00::1", "private"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:169.254.169.254", "link-local"],
    ["::ffff:a9fe:a9fe", "link-local"],
    ["::ffff:8.8.8.8", "public"],
    ["::127.0.0.1", "loopback"],
    ["64:ff9b::7f00:1", "reserved"],
    ["2002:7f00:1::", "reserved"],
    ["255.255.255.255", "reserved"],
    ["192.0.2.1", "reserved"],
    ["not an ip", "invalid"],
    ["", "invalid"],
    ["1.2.3", "invalid"],
  ];
  for (const [ip, cls] of cases) it(`${ip || "(empty)"} is ${cls}`, () => assert.equal(classifyAddress(ip), cls));

  it("unwraps only IPv4-mapped and -compatible forms", () => {
    assert.equal(unwrapMappedIpv4("::ffff:10.0.0.1"), "10.0.0.1");
    assert.equal(unwrapMappedIpv4("::ffff:a00:1"), "10.0.0.1");
    assert.equal(unwrapMappedIpv4("2001:db8::1"), "2001:db8::1");
    assert.equal(unwrapMappedIpv4("::1"), "::1");
  });
});

describe("parseAllowList", () => {
  it("matches listed hosts, addresses and CIDRs", () => {
    const a = parseAllowList("localhost, 127.0.0.1,10.0.0.0/8,fd00::/8");
    assert.ok(a.hasHost("localhost"));
    assert.ok(a.hasHost("127.0.0.1"));
    assert.ok(!a.hasHost("example.com"));
    assert.ok(a.hasAddress("127.0.0.1"));
    assert.ok(!a.hasAddress("127.0.0.2"));
    assert.ok(a.hasAddress("10.200.0.1"));
    assert.ok(a.hasAddress("fd12::1"));
    assert.ok(!a.hasAddress("192.168.0.1"));
  });
  it("rejects bad CIDRs and allows nothing when empty", () => {
    assert.throws(() => parseAllowList("10.0.0.0/33"));
    assert.throws(() => parseAllowList("host/8"));
    assert.ok(!parseAllowList("").hasAddress("127.0.0.1"));
  });
});
