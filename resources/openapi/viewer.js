// A small local OpenAPI viewer with "try it": lists every route by tag and sends requests with Basic auth.
"use strict";

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

function resolve(doc, schema) {
  if (schema && schema.$ref) return doc.components.schemas[schema.$ref.split("/").pop()];
  return schema;
}

function example(doc, schema, depth) {
  schema = resolve(doc, schema) || {};
  if (depth > 4) return null;
  if (schema.example !== undefined) return schema.example;
  if (schema.type === "object") {
    const out = {};
    for (const [k, v] of Object.entries(schema.properties || {})) out[k] = example(doc, v, depth + 1);
    return out;
  }
  if (schema.type === "array") return [example(doc, schema.items, depth + 1)];
  return { string: "", integer: 0, number: 0, boolean: false }[schema.type] ?? null;
}

function operation(doc, path, method, op) {
  const inputs = {};
  const box = el("div", { class: "body" });
  box.append(el("p", {}, op.summary || ""));
  for (const p of op.parameters || []) {
    const input = el("input", { placeholder: p.in + (p.required ? ", required" : "") });
    inputs[p.in + ":" + p.name] = input;
    box.append(el("label", { class: "param" }, p.name + " ", input));
  }
  let body = null;
  if (op.requestBody) {
    const schema = op.requestBody.content["application/json"].schema;
    body = el("textarea", {});
    body.value = JSON.stringify(example(doc, schema, 0), null, 2);
    box.append(el("p", {}, "Body (JSON)"), body);
  }
  const out = el("pre", {});
  const button = el("button", { type: "button" }, "Send");
  button.addEventListener("click", async () => {
    let url = path;
    const query = new URLSearchParams();
    const headers = {};
    for (const [key, input] of Object.entries(inputs)) {
      const [where, name] = key.split(":");
      if (!input.value) continue;
      if (where === "path") url = url.replace("{" + name + "}", encodeURIComponent(input.value));
      else if (where === "query") query.set(name, input.value);
      else headers[name] = input.value;
    }
    const user = document.getElementById("user").value;
    const password = document.getElementById("password").value;
    if (password) headers.Authorization = "Basic " + btoa(user + ":" + password);
    if (body) headers["Content-Type"] = "application/json";
    const qs = query.toString();
    out.textContent = "…";
    try {
      const res = await fetch(url + (qs ? "?" + qs : ""), { method: method.toUpperCase(), headers,
                                                            body: body ? body.value : undefined });
      out.textContent = res.status + " " + res.statusText + "\n\n" + (await res.text());
    } catch (e) {
      out.textContent = String(e);
    }
  });
  box.append(button, out);
  const perm = op["x-permission"] ? "permission: " + op["x-permission"] : "open";
  return el("details", {}, el("summary", {}, el("span", { class: "method " + method }, method.toUpperCase()),
    path, el("span", { class: "perm" }, perm)), box);
}

async function main() {
  const doc = await (await fetch("openapi.json")).json();
  const byTag = {};
  let count = 0;
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      (byTag[op.tags[0]] ||= []).push(operation(doc, path, method, op));
      count += 1;
    }
  }
  document.getElementById("summary").textContent =
    doc.info.description + " (" + count + " operations, OpenAPI " + doc.openapi + ")";
  const main = document.getElementById("routes");
  for (const [tag, items] of Object.entries(byTag)) main.append(el("h2", {}, tag), ...items);
}

main();
