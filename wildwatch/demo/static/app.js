// Demo Bazaar client-side listing page (style "js").
// The server sends only an empty shell; this script fetches /api/items/<id> and,
// after a short delay, renders the same markup as the "html" style, so a crawler
// has to run JavaScript and wait for .listing-title. Text goes in via textContent.
(function () {
  "use strict";
  var RENDER_DELAY_MS = 200;
  var app = document.getElementById("app");
  var match = window.location.pathname.match(/^\/app\/item\/([A-Za-z0-9-]+)\/?$/);

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function showError(message) {
    app.textContent = "";
    app.appendChild(el("p", { "class": "error" }, message));
  }

  function render(item) {
    app.textContent = "";
    var crumb = el("nav", { "class": "breadcrumb" });
    crumb.appendChild(el("a", { href: "/" }, "首页"));
    crumb.appendChild(document.createTextNode(" › "));
    crumb.appendChild(el("a", { href: "/c/" + item.category }, item.category_name));
    app.appendChild(crumb);

    var article = el("article", { "class": "listing" });
    article.appendChild(el("h1", { "class": "listing-title" }, item.title));
    var gallery = el("div", { "class": "listing-gallery" });
    item.images.forEach(function (src) {
      gallery.appendChild(el("img", { "class": "listing-image", src: src, alt: item.title }));
    });
    article.appendChild(gallery);

    var price = el("p", {}, "价格 Price: ");
    price.appendChild(el("span", { "class": "listing-price" }, item.price_text));
    article.appendChild(price);
    var number = el("p", {}, "商品编号 Item no.: ");
    number.appendChild(el("span", { "class": "listing-id" }, item.id));
    article.appendChild(number);

    var meta = el("p", {}, "卖家 Seller: ");
    meta.appendChild(el("a", { "class": "seller-link", href: "/seller/" + item.seller_id }, item.seller_name));
    meta.appendChild(document.createTextNode(" · 所在地 Location: "));
    meta.appendChild(el("span", { "class": "listing-location" }, item.location));
    meta.appendChild(document.createTextNode(" · 发布 Posted: "));
    meta.appendChild(el("time", { "class": "listing-posted", datetime: item.posted }, item.posted));
    article.appendChild(meta);

    var description = el("div", { "class": "listing-description" });
    item.description.split("\n").forEach(function (line) {
      if (line.trim()) { description.appendChild(el("p", {}, line)); }
    });
    article.appendChild(description);

    var buy = el("p");
    buy.appendChild(el("a", { "class": "add-to-cart", href: "/cart/add?item=" + item.id }, "加入购物车"));
    article.appendChild(buy);
    app.appendChild(article);
    document.title = item.title + " - Demo Bazaar 演示集市";
  }

  if (!match) { showError("无效的商品地址 Invalid item address"); return; }
  fetch("/api/items/" + encodeURIComponent(match[1]), { headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) { throw new Error("该商品已下架 / This listing is no longer available"); }
      return response.json();
    })
    .then(function (item) { setTimeout(function () { render(item); }, RENDER_DELAY_MS); })
    .catch(function (error) { showError(error.message); });
})();
