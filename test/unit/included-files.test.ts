import { describe, expect, it } from "vitest";
import { includedFiles, parseNatsConf } from "../../handlers/reloader/nats-conf.ts";

describe("includedFiles", () => {
  it("finds includes at the top and inside blocks, quoted or bare, and skips comments", () => {
    const conf = `port: 4222
include "auth.conf"
cluster {
  port: 6222
  include 'routes.json'
}
leafnodes { include leaf.conf }
# include "commented.conf"
  // include "also-commented.conf"
http: 8222 # include "trailing-comment.conf"
`;
    expect(includedFiles(conf)).toEqual(["auth.conf", "routes.json", "leaf.conf"]);
  });

  it("finds none in a config without includes, or where the word is only part of a value", () => {
    expect(includedFiles('port: 4222\nserver_name: "include-me"\n')).toEqual([]);
    expect(includedFiles("")).toEqual([]);
  });
});

describe("parseNatsConf on broken lists", () => {
  it("refuses a character no value starts with, instead of reading it forever", () => {
    expect(parseNatsConf({ "a.conf": "routes: [ } ]" }, "a.conf")).toMatchObject({
      error: { message: expect.stringMatching(/a\.conf:1: unexpected "}" in a list/) },
    });
  });
});
