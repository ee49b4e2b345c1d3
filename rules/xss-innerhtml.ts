// Semgrep rule tests for xss-innerhtml in TypeScript.

interface Article {
  title: string;
  url: string;
}

export function render(list: HTMLElement, article: Article): void {
  // ruleid: xss-innerhtml
  list.innerHTML = `<a href="${article.url}">${article.title}</a>`;
}

export function renderSafely(list: HTMLElement, article: Article): void {
  const link = document.createElement("a");
  // ok: xss-innerhtml
  link.textContent = article.title;
  list.replaceChildren(link);
}
