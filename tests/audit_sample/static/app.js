// Renders the article list from the API.
async function loadArticles() {
  const response = await fetch("/api/articles");
  const page = await response.json();
  const list = document.getElementById("articles");
  list.innerHTML = "";
  for (const article of page.items) {
    list.innerHTML += `<li><a href="${article.url}">${article.title}</a><p>${article.summary}</p></li>`;
  }
}

loadArticles();
