// The page's one script: lists articles, adds one, and runs an analysis.
//
// Everything shown comes from the API, and an article's title, summary and
// address were written by whoever had a key, so all of it is treated as
// untrusted text. The rules that keep it text:
//   - elements are made with document.createElement and filled through
//     textContent, which the browser never parses as markup;
//   - a link is made only for an address that the URL parser reads as
//     http: or https:; anything else is shown as text;
//   - the API key is read from its input at the moment of each request and
//     never written to localStorage, sessionStorage, a cookie or the URL.
// The page's Content-Security-Policy (require-trusted-types-for 'script')
// makes the browser reject any string assigned to an HTML sink, so a later
// change that bypasses these rules fails loudly instead of running script.

const PAGE_SIZE = 10;
const LINK_PROTOCOLS = new Set(["http:", "https:"]);

/**
 * Return the normalised address if `value` is an absolute http(s) URL, else null.
 *
 * `new URL` without a base throws on relative and protocol-relative input.
 * Before `protocol` is read, the parser removes tabs, newlines and leading
 * spaces or control characters, and it lowercases the scheme. So every
 * spelling of a script scheme (mixed case, split by a tab, indented) ends
 * up as one protocol, which is not in LINK_PROTOCOLS.
 */
export function safeHttpUrl(value) {
  if (typeof value !== "string") {
    return null;
  }
  let url;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  return LINK_PROTOCOLS.has(url.protocol) ? url.href : null;
}

/** Create an element with an optional class and text. The text is never parsed. */
function element(tag, { className, text } = {}) {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

/** Create a link that opens in a new tab without giving it access to this page. */
function externalLink(href, text) {
  const link = element("a", { text });
  link.href = href;
  link.target = "_blank";
  // noopener: the new tab gets no window.opener handle to navigate this page.
  // noreferrer: the article's site does not learn this page's address.
  link.rel = "noopener noreferrer";
  return link;
}

function showStatus(node, text, isError = false) {
  node.textContent = text;
  node.classList.toggle("error", isError);
}

// --- the API -----------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    super(`request failed with status ${status}`);
    this.status = status;
    this.body = body;
  }
}

/** Send a request to the API and return the decoded JSON body, or throw ApiError. */
async function callApi(path, { method = "GET", body, key } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
  }
  if (key) {
    headers["X-API-Key"] = key;
  }
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    // The key travels only in the header above: no cookies, no cache.
    credentials: "omit",
    cache: "no-store",
  });

  let decoded = null;
  try {
    decoded = await response.json();
  } catch {
    // A body that is not JSON (a proxy's error page) is reported by status alone.
  }
  if (!response.ok) {
    throw new ApiError(response.status, decoded);
  }
  return decoded;
}

/** Describe a failed request in one line: the service's generic message and error id. */
function describeError(error) {
  if (!(error instanceof ApiError)) {
    return "The request did not reach the service. Check the connection and try again.";
  }
  const body = error.body;
  const message = body && typeof body.error === "string" ? body.error : `HTTP ${error.status}`;
  let text = `Error ${error.status}: ${message}`;
  if (body && Array.isArray(body.fields) && body.fields.length > 0) {
    const fields = body.fields.map((field) => {
      const location = Array.isArray(field.loc) ? field.loc.filter((part) => part !== "body") : [];
      return `${location.join(".") || "request"}: ${field.msg}`;
    });
    text += ` (${fields.join("; ")})`;
  }
  if (body && typeof body.error_id === "string") {
    text += `. Error id: ${body.error_id}`;
  }
  return text;
}

// --- articles ----------------------------------------------------------------

function renderLink(article) {
  const paragraph = element("p", { className: "article-link" });
  const href = safeHttpUrl(article.url);
  if (href !== null) {
    paragraph.append(externalLink(href, "Read more"), " ");
    paragraph.append(element("span", { className: "article-host", text: new URL(href).host }));
  } else {
    // Shown so a reader sees what was stored, but it cannot be followed.
    paragraph.append(element("span", { className: "unsafe-url-label", text: "Not a web address: " }));
    paragraph.append(element("code", { className: "article-url", text: String(article.url) }));
  }
  return paragraph;
}

function renderArticle(article, onAnalyze) {
  const item = element("li", { className: "article" });
  item.dataset.articleId = String(article.id);

  item.append(element("h3", { className: "article-title", text: String(article.title) }));
  if (article.summary) {
    item.append(element("p", { className: "article-summary", text: String(article.summary) }));
  }
  item.append(renderLink(article));

  const footer = element("p", { className: "article-meta" });
  const created = new Date(article.created_at);
  const date = Number.isNaN(created.getTime()) ? "" : created.toLocaleString();
  footer.append(element("span", { text: `#${article.id}${date ? ` · ${date}` : ""}` }));
  const analyze = element("button", { className: "small", text: "Analyze" });
  analyze.type = "button";
  analyze.addEventListener("click", () => onAnalyze(article.id));
  footer.append(" ", analyze);
  item.append(footer);
  return item;
}

// --- the page ----------------------------------------------------------------

function findElements() {
  const byId = (id) => {
    const node = document.getElementById(id);
    if (node === null) {
      throw new Error(`the page has no element with id "${id}"`);
    }
    return node;
  };
  return {
    list: byId("articles"),
    listStatus: byId("list-status"),
    previous: byId("previous-page"),
    next: byId("next-page"),
    pageInfo: byId("page-info"),
    keyForm: byId("key-form"),
    keyInput: byId("api-key"),
    forgetKey: byId("forget-key"),
    articleForm: byId("article-form"),
    articleStatus: byId("article-status"),
    analyzeForm: byId("analyze-form"),
    analysisStatus: byId("analysis-status"),
    analysisResult: byId("analysis-result"),
  };
}

function start() {
  const ui = findElements();
  let offset = 0;
  let total = 0;

  // Read at each request, so the key lives only in the input's value.
  const currentKey = () => ui.keyInput.value.trim();

  function requireKey(statusNode) {
    const key = currentKey();
    if (!key) {
      showStatus(statusNode, "Enter your API key first.", true);
      ui.keyInput.focus();
    }
    return key;
  }

  async function loadArticles() {
    showStatus(ui.listStatus, "Loading…");
    ui.list.setAttribute("aria-busy", "true");
    ui.previous.disabled = true;
    ui.next.disabled = true;
    let page;
    try {
      const query = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(offset) });
      page = await callApi(`/api/articles?${query}`);
    } catch (error) {
      showStatus(ui.listStatus, describeError(error), true);
      ui.list.setAttribute("aria-busy", "false");
      return;
    }

    total = page.total;
    ui.list.replaceChildren(...page.items.map((article) => renderArticle(article, analyzeArticle)));
    if (page.items.length === 0) {
      showStatus(ui.listStatus, offset === 0 ? "No articles yet." : "No articles on this page.");
      ui.pageInfo.textContent = "";
    } else {
      showStatus(ui.listStatus, "");
      const last = offset + page.items.length;
      ui.pageInfo.textContent = `${offset + 1}–${last} of ${total}`;
    }
    ui.previous.disabled = offset === 0;
    ui.next.disabled = offset + PAGE_SIZE >= total;
    ui.list.setAttribute("aria-busy", "false");
  }

  function showAnalysis(result) {
    const container = ui.analysisResult;
    const keywords = Array.isArray(result.keywords) ? result.keywords.map(String) : [];
    const keywordList = element("ul", { className: "keywords" });
    keywordList.append(...keywords.map((keyword) => element("li", { text: keyword })));

    const source = `${result.provider} · ${result.model}${result.offline ? " · offline analyser" : ""}`;
    container.replaceChildren(
      element("h3", { text: "Summary" }),
      element("p", { className: "analysis-summary", text: String(result.summary) }),
      element("h3", { text: "Keywords" }),
      keywordList,
      element("p", { className: "analysis-source", text: source }),
    );
    container.hidden = false;
  }

  async function runAnalysis(body) {
    const key = requireKey(ui.analysisStatus);
    if (!key) {
      return;
    }
    showStatus(ui.analysisStatus, "Analyzing…");
    ui.analysisResult.hidden = true;
    try {
      showAnalysis(await callApi("/api/analyze", { method: "POST", body, key }));
      showStatus(ui.analysisStatus, "Analysis done.");
    } catch (error) {
      showStatus(ui.analysisStatus, describeError(error), true);
    }
  }

  function analyzeArticle(articleId) {
    ui.analysisStatus.scrollIntoView({ block: "nearest" });
    return runAnalysis({ article_id: articleId });
  }

  ui.keyForm.addEventListener("submit", (event) => event.preventDefault());
  ui.forgetKey.addEventListener("click", () => {
    ui.keyInput.value = "";
    ui.keyInput.focus();
  });

  ui.articleForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = requireKey(ui.articleStatus);
    if (!key) {
      return;
    }
    const fields = new FormData(ui.articleForm);
    const body = {
      title: String(fields.get("title") ?? ""),
      summary: String(fields.get("summary") ?? ""),
      url: String(fields.get("url") ?? ""),
    };
    showStatus(ui.articleStatus, "Adding…");
    try {
      const created = await callApi("/api/articles", { method: "POST", body, key });
      showStatus(ui.articleStatus, `Article #${created.id} added.`);
      ui.articleForm.reset();
      offset = 0;
      await loadArticles();
    } catch (error) {
      showStatus(ui.articleStatus, describeError(error), true);
    }
  });

  ui.analyzeForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = String(new FormData(ui.analyzeForm).get("text") ?? "");
    runAnalysis({ text });
  });

  ui.previous.addEventListener("click", () => {
    offset = Math.max(0, offset - PAGE_SIZE);
    loadArticles();
  });
  ui.next.addEventListener("click", () => {
    offset += PAGE_SIZE;
    loadArticles();
  });

  // The forms start disabled in the markup, so none can be submitted
  // natively before these handlers exist.
  for (const fieldset of document.querySelectorAll("form fieldset")) {
    fieldset.disabled = false;
  }
  return loadArticles();
}

start();
