// Semgrep rule tests for xss-innerhtml.

function renderArticles(list, articles) {
  for (const article of articles) {
    // ruleid: xss-innerhtml
    list.innerHTML += `<li><a href="${article.url}">${article.title}</a></li>`;
  }
}

function renderSummary(element, summary) {
  // ruleid: xss-innerhtml
  element.innerHTML = "<p>" + summary + "</p>";
}

function replaceCard(card, article) {
  // ruleid: xss-innerhtml
  card.outerHTML = `<div class="card">${article.title}</div>`;
}

function appendRow(table, row) {
  // ruleid: xss-innerhtml
  table.insertAdjacentHTML("beforeend", `<tr><td>${row.name}</td></tr>`);
}

function writeBanner(message) {
  // ruleid: xss-innerhtml
  document.write("<h1>" + message + "</h1>");
}

function renderMany(list, items) {
  // ruleid: xss-innerhtml
  list.innerHTML = items.map((item) => `<li>${item}</li>`).join("");
}

// The fix: nodes built with createElement and text set with textContent.
function safeUrl(value) {
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

function renderArticleSafely(list, article) {
  const item = document.createElement("li");
  const link = document.createElement("a");
  // ok: xss-innerhtml
  link.textContent = article.title;
  const href = safeUrl(article.url);
  if (href) {
    link.href = href;
    link.rel = "noopener noreferrer";
  }
  item.append(link);
  list.append(item);
}

function clearList(list) {
  // ok: xss-innerhtml
  list.innerHTML = "";
}

function staticMarkup(element) {
  // ok: xss-innerhtml
  element.innerHTML = "<p>Loading…</p>";
  // ok: xss-innerhtml
  element.insertAdjacentHTML("beforeend", `<hr>`);
}
