// The srmzoo serve page: pick an entry, ask, watch the completion stream, check the answer.
// Model text is untrusted: it only ever reaches the page as text nodes, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const models = new Map();
let controller = null;   // aborts the running request (the server then stops generating)
let lastAnswer = null;   // the final answer srmzoo parsed, or the whole completion when none
let lastQuestion = "";

function headers() {
  const h = { "Content-Type": "application/json" };
  const key = $("api-key").value.trim();
  if (key) h["Authorization"] = "Bearer " + key;
  return h;
}

async function errorText(response) {
  try {
    const body = await response.json();
    return body.error && body.error.message ? body.error.message : response.statusText;
  } catch (e) {
    return response.statusText;
  }
}

function showNotice(text) {
  $("notice").textContent = text || "";
  $("notice").hidden = !text;
}

function selectModel() {
  const info = models.get($("model").value);
  if (!info) return;
  const ext = info.srmzoo || {};
  const parts = [ext.domain, ext.base, ext.backend, (ext.tools || []).length ? "tools: " + ext.tools.join(", ") : ""];
  $("model-info").textContent = parts.filter(Boolean).join(" · ");
  showNotice(ext.disclaimer);
}

async function loadModels() {
  const response = await fetch("/v1/models", { headers: headers() });
  if (!response.ok) {
    $("status").textContent = "could not list the models: " + (await errorText(response));
    return;
  }
  const body = await response.json();
  $("model").replaceChildren();
  for (const m of body.data) {
    models.set(m.id, m);
    const option = document.createElement("option");
    option.value = m.id;
    option.textContent = m.id;
    $("model").appendChild(option);
  }
  selectModel();
}

// The reasoning with each answered tool call (<<expr>> = result) marked inline.
function renderReasoning(text, calls) {
  const box = $("reasoning");
  box.replaceChildren();
  const pattern = /<<([^<>]*)>>/g;
  let at = 0;
  let k = 0;
  let match;
  while ((match = pattern.exec(text)) !== null) {
    box.appendChild(document.createTextNode(text.slice(at, match.index)));
    const call = document.createElement("span");
    call.className = "tool-call";
    call.textContent = match[1];
    box.appendChild(call);
    at = pattern.lastIndex;
    const known = calls[k];
    if (known && known.call === match[1].trim()) {
      const written = " = " + known.result;
      if (text.startsWith(written, at)) {
        box.appendChild(document.createTextNode(" = "));
        const result = document.createElement("span");
        result.className = "tool-result";
        result.textContent = known.result;
        box.appendChild(result);
        at += written.length;
      }
      k += 1;
    }
  }
  box.appendChild(document.createTextNode(text.slice(at)));
  $("tool-count").textContent = calls.length ? "(" + calls.length + " tool call" + (calls.length > 1 ? "s" : "") + ")" : "";
}

function setAnswer(answer) {
  const box = $("answer");
  if (answer === null || answer === undefined) {
    box.textContent = "no final answer (the model did not state one)";
    box.className = "answer muted";
  } else {
    box.textContent = answer;
    box.className = "answer";
  }
}

async function ask() {
  const question = $("question").value.trim();
  if (!question) return;
  lastQuestion = question;
  lastAnswer = null;
  $("verdict").textContent = "";
  $("verdict").className = "verdict";
  $("answer").textContent = "…";
  $("answer").className = "answer muted";
  $("check").disabled = true;
  $("ask").disabled = true;
  $("stop").disabled = false;
  let text = "";
  const calls = [];
  renderReasoning(text, calls);
  const started = performance.now();
  let tokens = null;
  controller = new AbortController();
  const request = {
    model: $("model").value,
    messages: [{ role: "user", content: question }],
    stream: true,
    stream_options: { include_usage: true },
    max_tokens: parseInt($("max-tokens").value, 10) || 256,
    temperature: parseFloat($("temperature").value) || 0,
  };
  $("status").textContent = "waiting for the model…";
  try {
    const response = await fetch("/v1/chat/completions", {
      method: "POST", headers: headers(), body: JSON.stringify(request), signal: controller.signal,
    });
    if (!response.ok) {
      $("status").textContent = "error " + response.status + ": " + (await errorText(response));
      $("answer").textContent = "-";
      return;
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let finish = null;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const event = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        if (!event.startsWith("data: ")) continue;
        const data = event.slice(6);
        if (data === "[DONE]") continue;
        const chunk = JSON.parse(data);
        if (chunk.error) {
          $("status").textContent = "error: " + chunk.error.message;
          continue;
        }
        if (chunk.srmzoo && chunk.srmzoo.disclaimer) showNotice(chunk.srmzoo.disclaimer);
        if (chunk.usage) tokens = chunk.usage.completion_tokens;
        for (const choice of chunk.choices || []) {
          if (choice.index !== 0) continue;
          if (choice.delta && choice.delta.content) text += choice.delta.content;
          const ext = choice.srmzoo || {};
          if (ext.tool_call) calls.push(ext.tool_call);
          if (choice.finish_reason) {
            finish = choice.finish_reason;
            lastAnswer = ext.answer !== undefined && ext.answer !== null ? ext.answer : null;
            setAnswer(lastAnswer);
          }
        }
        renderReasoning(text, calls);
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        $("status").textContent = finish
          ? "done (" + finish + ")" + (tokens !== null ? ", " + tokens + " tokens" : "") + " in " + seconds + " s"
          : "streaming… " + seconds + " s";
      }
    }
    if (lastAnswer === null) lastAnswer = text;
    $("check").disabled = false;
  } catch (err) {
    $("status").textContent = err.name === "AbortError" ? "stopped" : "error: " + err.message;
  } finally {
    controller = null;
    $("ask").disabled = false;
    $("stop").disabled = true;
  }
}

async function check() {
  const expected = $("expected").value.trim();
  if (!expected || lastAnswer === null) return;
  const response = await fetch("/v1/srmzoo/check", {
    method: "POST", headers: headers(),
    body: JSON.stringify({ model: $("model").value, answer: lastAnswer, expected: expected, question: lastQuestion }),
  });
  if (!response.ok) {
    $("verdict").textContent = "error: " + (await errorText(response));
    $("verdict").className = "verdict";
    return;
  }
  const body = await response.json();
  $("verdict").textContent = body.verdict + (body.predicted ? " (read the answer as " + body.predicted + ")" : "");
  $("verdict").className = "verdict " + body.verdict;
}

$("model").addEventListener("change", selectModel);
$("ask").addEventListener("click", ask);
$("stop").addEventListener("click", () => controller && controller.abort());
$("check").addEventListener("click", check);
$("question").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) ask();
});
$("api-key").addEventListener("change", loadModels);
loadModels();
