// Old Street mobile detail page: the server sends an empty shell; this script asks
// /ajax/goods.php?act=detail&id=<id> and draws the desktop page's table from the nested answer.
// Text goes in via textContent.
(function () {
  "use strict";
  var app = document.getElementById("app");
  var match = window.location.search.match(/[?&]id=([A-Za-z0-9-]+)/);

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function row(label, cls, text, href) {
    var tr = el("tr");
    tr.appendChild(el("th", {}, label));
    var td = el("td", { "class": cls });
    if (href) { td.appendChild(el("a", { href: href }, text)); } else { td.textContent = text; }
    tr.appendChild(td);
    return tr;
  }

  // The back end answers in two versions (oldstreet_mobile.api_goods and api_goods_v2); both are drawn alike.
  function normalise(data) {
    if (data.goods) { return data; }
    var item = data.item, shop = data.shop;
    return {
      goods: { goods_id: item.id, goods_name: item.name, goods_desc: item.desc, shop_price: item.price,
               region: item.area, add_time: item.time },
      seller: { uid: shop.uid, nickname: shop.nick }
    };
  }

  function render(data) {
    data = normalise(data);
    var goods = data.goods, seller = data.seller;
    app.textContent = "";
    var table = el("table", { "class": "goods-info" });
    var head = el("tr");
    head.appendChild(el("td", { "class": "gname", colspan: "2" }, goods.goods_name));
    table.appendChild(head);
    table.appendChild(row("价格", "gprice", goods.shop_price));
    table.appendChild(row("卖家", "gseller", seller.nickname, "/member/shop.php?uid=" + encodeURIComponent(seller.uid)));
    table.appendChild(row("所在地", "garea", goods.region));
    table.appendChild(row("发布", "gdate", goods.add_time));
    app.appendChild(table);
    var desc = el("div", { id: "goods-desc" });
    goods.goods_desc.split("\n").forEach(function (line) {
      if (!line.trim()) { return; }
      if (desc.childNodes.length) { desc.appendChild(el("br")); }
      desc.appendChild(document.createTextNode(line));
    });
    app.appendChild(desc);
    app.appendChild(el("p", { "class": "gid" }, "编号：" + goods.goods_id));
    document.title = goods.goods_name + " - 老街旧货 手机版";
  }

  if (!match) { app.textContent = "无效的商品地址"; return; }
  fetch("/ajax/goods.php?act=detail&id=" + encodeURIComponent(match[1]), { headers: { Accept: "application/json" } })
    .then(function (response) { return response.json(); })
    .then(function (answer) {
      if (answer.code !== 0 || !answer.data) { throw new Error(answer.msg || "该商品已下架"); }
      setTimeout(function () { render(answer.data); }, 150);
    })
    .catch(function (error) { app.textContent = error.message; });
})();
