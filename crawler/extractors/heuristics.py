"""Last-resort extraction for pages with neither selectors nor structured data."""
from __future__ import annotations

import html
import re
from itertools import islice
from typing import Any

import html_text
from parsel import Selector

_PRICE_TEXT_RE = re.compile(
    r"(?:US\$|HK\$|NT\$|S\$|A\$|C\$|CN¥|JP¥|RMB|CNY|USD|HKD|EUR|GBP|[¥￥$€£])\s?\d[\d,.]*"
    r"|\d[\d,.]*\s?(?:元|块|RMB|CNY|USD|EUR|GBP|€)"
)
_MAX_DESCRIPTION = 20_000
_MIN_BLOCK = 10  # characters: a one-line description ("Good condition.") is still the listing's text


def extract_heuristic(selector: Selector, have: dict[str, Any] | None = None) -> dict[str, Any]:
    """Title from the heading the page's <title> repeats (else h1, else <title>), description from a
    description element, else the page's main block of text, else the meta description; price
    from an element or a text pattern.

    `have`: fields another source already gave; their heuristics are skipped (they cost most of the
    time on a page with full structured data), except the price, which is compared with the page's."""
    have = have or {}
    fields: dict[str, Any] = {}
    title = have.get("title") or _title(selector)
    if title and not have.get("title"):
        fields["title"] = title
    description = None if have.get("description") else _description(selector, title)
    if description:
        fields["description"] = description[:_MAX_DESCRIPTION]
    prices = main_prices(selector)
    price_text = prices.price
    if not price_text:
        body = " ".join(selector.css("body *::text").getall()[:2000])
        match = _PRICE_TEXT_RE.search(body)
        price_text = match.group(0) if match else None
    if price_text:
        fields["price"] = price_text
    if prices.list_price:
        fields["list_price"] = prices.list_price
    if prices.near_buy and prices.price:
        fields["_shown_prices"] = prices.shown  # for the choice between structured and shown price
    if not have.get("images"):
        images = selector.css('meta[property="og:image"]::attr(content)').getall() or _main_images(selector)
        if images:
            fields["images"] = images
    return fields




# Page furniture: never the listing's title or text.
_CHROME_TAGS = {"header", "nav", "footer", "aside", "form", "script", "style", "noscript", "template", "button",
                "select", "svg", "iframe"}
_CHROME_NAMES = re.compile(
    r"(^|[-_\s])(nav|navbar|menu|header|footer|foot|bottom|topbar|top-bar|breadcrumbs?|crumbs|sidebar|side-bar|"
    r"cookies?|banner|copyright|legal|related|recommend\w*|similar|share|social|comments?|reviews?|pager|"
    r"pagination|login|signup|newsletter)([-_\s]|$)", re.I)
_DESCRIPTION_CSS = ('[itemprop="description"]', '[class*="description"]', '[id*="description"]', '[class*="desc"]',
                    '[id*="desc"]', '[class*="detail-text"]', '[class*="item-body"]', '[class*="post-body"]')
_INLINE = {"a", "b", "i", "em", "strong", "span", "small", "br", "font", "u", "sup", "sub", "code", "mark", "abbr",
           "time", "label", "wbr", "s", "del", "ins", "q", "cite"}
_BLOCKS = {"div", "section", "article", "main", "td", "dd", "li", "p", "blockquote", "pre", "body"}
_SEPARATORS = re.compile(r"\s+(?:[|\-–—:_·]|::|»)\s+")


_IMAGE_NAMES = re.compile(r"main|product|landing|primary|hero|zoom|gallery|detail", re.I)


def main_image_elements(selector: Selector) -> list:
    """The product's pictures: itemprop=image, else images (or their galleries) named like the main picture
    (main, product, landing, zoom, gallery ...), outside page chrome."""
    found = [node.root for node in selector.css('[itemprop="image"]')]
    if not found:
        for node in selector.xpath("//img[@src]"):
            element = node.root
            names = " ".join(f"{e.get('class') or ''} {e.get('id') or ''}" for e in [element, *element.iterancestors()][:3])
            if _IMAGE_NAMES.search(names) and not _in_chrome(element):
                found.append(element)
    return found


def _main_images(selector: Selector) -> list[str]:
    """Addresses of the product's pictures when there is no og:image (relative; the extractor resolves them)."""
    found = [e.get("src") or e.get("content") for e in main_image_elements(selector)]
    return [src.strip() for src in found if src and src.strip() and not src.strip().startswith("data:")][:10]


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def _in_chrome(node) -> bool:
    for element in [node, *node.iterancestors()]:
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in _CHROME_TAGS:
            return True
        if tag in ("body", "html", "main"):
            continue  # shops hang every feature flag on <body class="...">: not a region of the page
        names = f"{element.get('class') or ''} {element.get('id') or ''} {element.get('role') or ''}"
        if names.strip() and _CHROME_NAMES.search(names):
            return True
    return False


def _title(selector: Selector) -> str | None:
    """The h1 (or h2) whose text the <title> repeats; else the first h1 outside the page chrome; else
    the first h1; else a title in a styled element (`<div class="item-title">`); else the <title>
    without its " - Site name" part."""
    page_title = _clean(" ".join(selector.css("title::text").getall()))
    headings = []
    for css in ("h1", "h2"):
        for node in selector.css(css):
            text = _clean(" ".join(node.css("::text").getall()))
            if text:
                headings.append((css, text, node))
    folded = page_title.casefold()
    for _, text, _node in headings:
        if len(text) >= 2 and folded and text.casefold() in folded:
            return text
    h1s = [(text, node) for css, text, node in headings if css == "h1"]
    for text, node in h1s:
        if not _in_chrome(node.root):
            return text
    if h1s:
        return h1s[0][0]
    styled = _styled_title(selector, folded)
    if styled:
        return styled
    if page_title:
        first = _SEPARATORS.split(page_title)[0].strip()
        return first if len(first) >= 2 else page_title
    return None


_TITLE_NAMES = re.compile(r"(^|[-_\s])(title|name|subject|heading|headline|product-?name|item-?name|goods-?name|"
                          r"pname|ptitle)([-_\s]|$)", re.I)


def _styled_title(selector: Selector, page_title: str) -> str | None:
    """A title set in a styled element instead of a heading: the first element outside page chrome named
    like a title (class or id) whose short text is not a link list; one the <title> repeats wins."""
    found = []
    for node in selector.xpath("//body//*[@class or @id]"):
        element = node.root
        if element.tag in ("a", "img", "input", "button", "meta", "script", "style") or \
                not _TITLE_NAMES.search(f"{element.get('class') or ''} {element.get('id') or ''}") or not _small(element):
            continue
        text = _clean(element.text_content())
        if not 2 <= len(text) <= 200 or _link_text(element) > len(text) / 2 or _in_chrome(element):
            continue
        if page_title and text.casefold() in page_title:
            return text
        found.append(text)
    return found[0] if found else None


def _own_text(element) -> str:
    """Text of an element without its block-level children (inline children included).

    Walks with its own stack, not by recursion: a hostile page nests inline tags thousands deep."""
    parts = [element.text or ""]
    stack = [(iter(element), "")]  # children still to visit, and the tail that follows them
    while stack:
        children, tail = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            parts.append(tail)
            continue
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag == "br":
            parts.append("\n" + (child.tail or ""))
        elif tag in _INLINE:
            parts.append(child.text or "")
            stack.append((iter(child), child.tail or ""))
        else:
            parts.append(child.tail or "")
    return "".join(parts)


def _link_text(element) -> int:
    return sum(len(_clean(a.text_content())) for a in element.iter("a"))


def _description(selector: Selector, title: str | None) -> str | None:
    for css in _DESCRIPTION_CSS:
        for node in selector.css(css):
            if node.root.tag in ("meta", "script", "style") or _in_chrome(node.root):
                continue
            text = html_text.extract_text(node.get(), guess_layout=True).strip()
            if len(text) >= 10 and text != title:
                return text
    block = _main_block(selector, title)
    if block is not None:
        return block
    meta = selector.css('meta[name="description"]::attr(content), meta[property="og:description"]::attr(content)')
    return (meta.get() or "").strip() or None


def _main_block(selector: Selector, title: str | None) -> str | None:
    """The block with the most running text: its own text plus that of its direct <p> children,
    outside page chrome, not mostly links, not the title."""
    root = selector.root
    if not hasattr(root, "iter"):
        return None
    best, best_score = None, 0
    folded_title = _clean(title or "").casefold()
    for element in root.iter(*_BLOCKS):
        if element.tag == "p" and element.getparent() is not None and element.getparent().tag in _BLOCKS:
            continue  # counted with its parent
        own = _clean(_own_text(element))
        paragraphs = [_clean(_own_text(child)) for child in element if child.tag == "p"]
        texts = [t for t in [own, *paragraphs] if t and t.casefold() != folded_title]
        score = sum(len(t) for t in texts)
        if score < _MIN_BLOCK or score <= best_score:
            continue
        if _link_text(element) > 0.5 * max(1, len(_clean(element.text_content()))):
            continue
        if _in_chrome(element):
            continue
        best, best_score = element, score
    if best is None:
        return None
    lines = []
    own_lines = [line.strip() for line in _own_text(best).split("\n")]
    lines.extend(line for line in own_lines if line)
    for child in best:
        if child.tag == "p":
            text = _clean(_own_text(child))
            if text:
                lines.append(text)
    text = "\n".join(_clean(line) for line in lines if _clean(line).casefold() != folded_title)
    return text or None


# ---- the main product's price ----------------------------------------------------------------------

_PRICE_NAMES = re.compile(r"price|preis|prix|prezzo|precio|preço|preco|cena|cijena|hinta|kaina|fiyat|amount|"
                          r"cost|pris|价|價|가격|금액|цена", re.I)
# A price the product no longer sells at: struck through, or named as the old / list / recommended one.
_OLD_NAMES = re.compile(r"(?<![a-z])(old|was|regular|list-?price|before|original|orig|strike\w*|crossed|rrp|msrp|"
                        r"compare\w*|uvp|statt|retail|ancien|barr\w*|tachado|antes|prev|previous|reference|initial|"
                        r"full)(?![a-z])", re.I)
_STRUCK = {"del", "s", "strike"}
# Where a price or buy button is not the page's own product: navigation, footers, the site's header (not a
# product's <header>), the mini-cart, and rows of other products. Forms are not: the buy box is a form.
_OTHER_PRODUCTS = re.compile(
    r"(^|[-_\s])(nav|navbar|menu|footer|breadcrumbs?|cookies?|related|recommend\w*|similar|carousel|upsell|"
    r"cross-?sell|also\w*|others?|more-from|more-like|mini-?cart|minibasket|cart-summary|sponsored|ads?|"
    r"suggest\w*|bought|viewed|trending|bestsellers?|newsletter)([-_\s]|$)", re.I)
_BUY_TEXT = re.compile(
    r"add to (cart|basket|bag|trolley)|buy (it )?now|^buy$|purchase|order now|place bid|bid now|make (an )?offer|"
    r"contact (the )?seller|reply to|warenkorb|in den korb|jetzt kaufen|ajouter au panier|acheter|"
    r"aggiungi al carrello|acquista|añadir al carrito|agregar al carro|comprar|adicionar|carrinho|do koszyka|"
    r"kup teraz|do košíka|do košíku|kúpiť|koupit|kosárba|ostukorvi|grozā|v košarico|košaric|sepete ekle|"
    r"satın al|in winkelwagen|ostoskoriin|i varukorgen|læg i kurv|legg i handlekurv|adicionar ao carrinho|"
    r"в корзину|купить|加入购物车|立即购买|加入購物車|立即購買|直接購買|马上抢|立即抢购|联系卖家|聯絡賣家|"
    r"カートに入れる|購入|장바구니|구매하기|바로구매|ใส่ตะกร้า|أضف إلى|הוסף לסל|"
    r"chat with (the )?seller|message (the )?seller|send (a )?message|show (phone|number)|call (the )?seller|"
    r"whatsapp|私聊|联系客服|聯絡|咨询|諮詢|询价|詢價", re.I)
_BUY_NAMES = re.compile(r"add-?to-?(cart|basket|bag)|addtocart|add_to_cart|buy-?now|buy_now|buy-?box|"
                        r"purchase|checkout-button|cart-button|btn-?cart|btn-?buy", re.I)
_PRICE_SHAPE = re.compile(r"\d")
_MAX_PRICE_TEXT = 80
# Amounts beside a price that are not it: shipping, savings, instalments, prices without tax, loyalty points.
_NOT_THE_PRICE_NAMES = re.compile(r"ship|deliver|postage|freight|porto|versand|livraison|spedizione|envio|frete|"
                                  r"dostaw|install?ment|monthly|per-?month|saving|you-?save|coupon|bonus|points|"
                                  r"loyalty|cashback|tax", re.I)
_NOT_THE_PRICE_TEXT = re.compile(
    r"postage|shipping|delivery|livraison|spedizione|versand|envío|envio|frete|dostawa|doprava|dostava|"
    r"you save|save \W?\d|risparmi|économisez|sparen sie|sie sparen|ahorra|économie|\bexcl\.?|ohne mwst|without (vat|tax)|"
    r"brez ddv|hors tax|/\s*(mo|month|mes|mois|monat)\b|per month|cuotas|parcelas|rate da|bonus|бонус|적립|포인트|"
    r"运费|運費|免运|免運|包邮|包郵|配送料|送料|배송비|积分|積點|点数|點數", re.I)
_SAME_BOX = 6  # prices this close in the tree to the chosen one are the same product's (offer, list, card price)


class MainPrices:
    """The price shown for the page's own product, and its struck-through list price when it shows one."""

    def __init__(self, price: str | None = None, list_price: str | None = None, near_buy: bool = False,
                 shown: list[str] | None = None, distance: int | None = None, buttons: int = 0):
        self.price, self.list_price, self.near_buy = price, list_price, near_buy
        self.distance = distance  # tree steps from the price to the heading or buy control
        self.buttons = buttons  # the most buy/contact controls of one label (a grid has one per card)
        self.element = None  # the chosen price's element
        self.heading = None  # the main heading's element
        self.shown = shown or []  # the other prices shown in the chosen price's box


def _small(element, limit: int = 40) -> bool:
    """At most `limit` elements in this subtree: a price, title or button, not a container of them. Checked
    before reading an element's whole text, so a hostile page of thousands of nested "price" boxes stays cheap."""
    return next(islice(element.iter(), limit, None), None) is None


def _names(element) -> str:
    return f"{element.get('class') or ''} {element.get('id') or ''} {element.get('itemprop') or ''}"


def _elsewhere(element) -> bool:
    """A price or button that is not the main product's: in navigation, the footer, the site's own header,
    a mini-cart or a row of other products."""
    for node in [element, *element.iterancestors()]:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in ("nav", "footer", "template", "noscript", "select"):
            return True
        names = _names(node)
        if tag == "header" and not re.search(r"product|item|detail|offer|listing", names, re.I) \
                and not any(a.tag in ("main", "article") for a in node.iterancestors()):
            return True
        if tag not in ("body", "html") and _OTHER_PRODUCTS.search(names):
            return True
    return False


def _is_old(element) -> bool:
    for depth, node in enumerate([element, *element.iterancestors()]):
        if depth > 3:
            return False
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in _STRUCK or _OLD_NAMES.search(_names(node)) and _PRICE_NAMES.search(_names(node)) \
                or re.search(r"line-through", node.get("style") or ""):
            return True
    return False


def _path(element) -> list:
    return [element, *element.iterancestors()][::-1]


def tree_distance(a, b) -> int:
    """Steps through the document tree from element `a` to element `b`."""
    return _distance(_path(a), _path(b))


def _distance(a_path: list, b_path: list) -> int:
    shared = 0
    for x, y in zip(a_path, b_path):
        if x is not y:
            break
        shared += 1
    return len(a_path) + len(b_path) - 2 * shared


def buy_controls(selector: Selector) -> list:
    """Buttons, links and inputs that buy, bid on or ask about a product, outside page chrome."""
    found = []
    for node in selector.xpath("//button | //a | //input[@type='submit' or @type='button' or @type='image'] "
                               "| //*[@role='button']"):
        element = node.root
        if not _small(element):
            continue
        text = _clean(element.text_content() if element.tag != "input" else element.get("value") or "")
        label = f"{text} {element.get('title') or ''} {element.get('aria-label') or ''}"
        if (len(text) <= 40 and _BUY_TEXT.search(label)) or _BUY_NAMES.search(_names(element)):
            if not _elsewhere(element):
                found.append(element)
    return found


def title_element(selector: Selector, title: str | None):
    """The element showing `title` on the page when no h1 does (a styled div or span): the first small
    element outside page chrome whose whole text is the title."""
    folded = _clean(title or "").casefold()
    if len(folded) < 2:
        return None
    for node in selector.xpath("//body//*[not(self::script or self::style or self::a or self::title)]"):
        element = node.root
        if _small(element, 8) and _clean(element.text_content()).casefold() == folded and not _in_chrome(element):
            return element
    return None


def main_heading(selector: Selector):
    """The product's name on a product page: the h1 the <title> repeats (not a promotion's "15% off" h1),
    else the first h1 outside page chrome, else the first h1."""
    headings = [node.root for node in selector.css("h1") if _clean(node.root.text_content())]
    page_title = _clean(" ".join(selector.css("title::text").getall())).casefold()
    repeated = [h for h in headings if page_title and _clean(h.text_content()).casefold() in page_title]
    return next((h for h in repeated + headings if not _in_chrome(h)), headings[0] if headings else None)


def _price_text(element) -> str:
    if element.tag == "meta":
        return _clean(element.get("content") or "")
    content = element.get("content") if element.get("itemprop") == "price" else None
    return _clean(content or element.text_content())


def _leaves(candidates: list) -> list:
    """Candidates that read as an amount, outside other products' rows, without such a candidate inside."""
    chosen = set(candidates)
    leaves = [c for c in candidates if not any(d in chosen and _has_amount(_price_text(d)) for d in c.iterdescendants())]
    return [c for c in leaves if _has_amount(_price_text(c)) and not _elsewhere(c)]


def _unnamed_prices(root) -> list:
    """Prices in elements named like nothing (`<span style="font:bold 27px">294</span> 元`): elements whose short
    text is a number with a currency, outside chrome; an amount alone in its element stands with its parent's."""
    from crawler.extractors.price import currency_of

    found = []
    for element in root.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        if not tag or tag in _NOT_CONTENT or not _PRICE_SHAPE.search(element.text or ""):
            continue
        for node in (element, element.getparent()):
            if node is None or node.tag in ("body", "html") or not _small(node):
                break
            text = _price_text(node)
            if len(text) <= _MAX_PRICE_TEXT and currency_of(text) and not _NOT_THE_PRICE_TEXT.search(text):
                if node not in found and not _elsewhere(node):
                    found.append(node)
                break
    return found


_NOT_CONTENT = {"script", "style", "meta", "link", "noscript", "template", "head", "title", "option", "select"}


def main_prices(selector: Selector, heading=None) -> MainPrices:
    """The price beside the main product's buy control (else its heading), not the first price on the page.

    Candidates are elements named like a price (class, id, itemprop; several languages) whose short text
    has a number, outside page chrome and related-items rows; an element is dropped for a price inside it.
    Struck-through or old/list-named prices are list prices. The winner is a candidate with one amount (not a
    box of several) nearest (in the document tree) to the heading or to the buy control nearest the heading.
    """
    root = selector.root
    if not hasattr(root, "iter"):
        return MainPrices()
    candidates = []
    for element in root.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        if not tag or tag in ("script", "style", "meta", "link", "noscript", "template", "head", "title"):
            continue
        if not (_PRICE_NAMES.search(_names(element)) or element.get("data-price")) or not _small(element):
            continue
        text = _price_text(element)
        if not text or len(text) > _MAX_PRICE_TEXT or not _PRICE_SHAPE.search(text):
            continue
        if _NOT_THE_PRICE_NAMES.search(_names(element)) or _NOT_THE_PRICE_TEXT.search(text):
            continue
        candidates.append(element)
    leaves = _leaves(candidates) or _leaves(_unnamed_prices(root))
    if not leaves:
        return MainPrices()
    heading = heading if heading is not None else main_heading(selector)
    anchors = []
    if heading is not None:
        anchors.append(_path(heading))
    buttons = buy_controls(selector)
    if buttons:
        hp = anchors[0] if anchors else None
        button = min(buttons, key=lambda b: _distance(_path(b), hp)) if hp else buttons[0]
        anchors.append(_path(button))
    order = {element: i for i, element in enumerate(leaves)}
    struck = [_path(c) for c in leaves if _is_old(c)]

    def rank(element) -> tuple:
        path = _path(element)
        near = min((_distance(path, a) for a in anchors), default=0)
        if any(_distance(path, s) <= _BESIDE for s in struck):
            near -= _SALE_BONUS  # beside a struck-through list price: the sale price of the offer shown
        text = _price_text(element)
        several = len(_AMOUNTS.findall(_PERCENT.sub("", text))) > 1  # a box of prices
        # "Cena: 13,40 €" is a price; "Späť na NAY Extra kartu 0,27 €" is a sentence about another amount.
        wordy = len([w for w in _WORDS.findall(text) if not _CURRENCY_HINT.fullmatch(w)]) >= 2
        return (several, near + _WORDY_PENALTY * wordy, order[element])

    current = sorted((c for c in leaves if not _is_old(c)), key=rank)
    if not current:
        return MainPrices()
    chosen_path = _path(current[0])
    old = sorted((c for c in leaves if _is_old(c)), key=lambda c: (_distance(_path(c), chosen_path), order[c]))
    price = _price_text(current[0])
    list_price = _price_text(old[0]) if old else None
    shown = [_price_text(c) for c in leaves if _distance(_path(c), chosen_path) <= _SAME_BOX]
    labels = [_clean(b.text_content() if b.tag != "input" else b.get("value") or "").casefold() for b in buttons]
    repeated = max((labels.count(label) for label in set(labels)), default=0)
    result = MainPrices(price, list_price if list_price != price else None, bool(buttons), shown,
                        rank(current[0])[1], repeated)
    result.element, result.heading = current[0], heading
    return result


_CURRENCY_HINT = re.compile(r"[$€£¥￥₩₹₽₺₪₫฿₱₴₸]|元|円|원|\b[A-Z]{3}\b|kr|Kč|zł|Ft|kn|lei|тг|руб|грн|R\$|,-|\d[.,]\d{2}\b",
                            re.I)


_AMOUNTS = re.compile(r"\d[\d\s.,'’]*")
_WORDS = re.compile(r"[^\W\d_]{2,}")
_WORDY_PENALTY = 3
_BESIDE, _SALE_BONUS = 6, 4
_PERCENT = re.compile(r"[-−]?\s*\d+(?:[.,]\d+)?\s*(%|折|할인)")  # discounts: -5%, 7 折 (30% off)


def _has_amount(text: str) -> bool:
    """A text that reads as an amount of money: a number with a currency, or a bare number (itemprop content)."""
    return bool(_PRICE_SHAPE.search(text)) and (bool(_CURRENCY_HINT.search(text)) or
                                                 bool(re.fullmatch(r"[\d\s.,]+", text)))


# ---- titles ----------------------------------------------------------------------------------------

_TITLE_PREFIX = re.compile(r"^(details about|détails sur|dettagli su|details zu|detalles de|detalhes sobre|"
                           r"szczegóły dotyczące|bijzonderheden over)\s*[:：-]?\s+", re.I)
_TITLE_SUFFIX = re.compile(r"\s*[-–—:|｜]?\s*\b(specs?\s*(and|&)\s*features|features\s*(and|&)\s*specs|"
                           r"specifications|tech specs)\s*$", re.I)
_TITLE_PARTS = re.compile(r"\s*[|｜]\s*|\s+[-–—:·»]\s+|\s*::\s*")
_BRACKET_PREFIX = re.compile(r"^\s*[\[【「『(（]([^\]】」』)）]{1,40})[\]】」』)）]\s*")


def _fold(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


def site_names(selector: Selector) -> list[str]:
    """What the shop calls itself: og:site_name, application-name, the schema.org Organization/WebSite name."""
    names = selector.css('meta[property="og:site_name"]::attr(content), '
                         'meta[name="application-name"]::attr(content), '
                         'meta[name="apple-mobile-web-app-title"]::attr(content)').getall()
    return [n.strip() for n in names if n and len(_fold(n)) >= 2]


def clean_title(title: str | None, selector: Selector) -> str | None:
    """A product name without the page's wrapping: HTML entities left escaped (`Black &amp; Silver`),
    "Details about" prefixes, the shop's name after a separator or in a leading [bracket], and a
    trailing "Specs and Features". When the page's main heading is one of the title's parts, that part."""
    if not title:
        return title
    text = str(title)
    for _ in range(2):  # "&amp;amp;" is escaped twice
        if "&" not in text:
            break
        text = html.unescape(text)
    text = _clean(text)
    text = _TITLE_PREFIX.sub("", text)
    text = _TITLE_SUFFIX.sub("", text).strip() or text
    shops = [_fold(n) for n in site_names(selector)]

    def is_shop(part: str) -> bool:
        folded = _fold(part)
        return bool(folded) and any(folded == s or (len(folded) >= 4 and (folded in s or s in folded))
                                    for s in shops)

    bracket = _BRACKET_PREFIX.match(text)
    if bracket and text[bracket.end():].strip() and is_shop(bracket.group(1)):
        text = text[bracket.end():].strip()
    parts = [p for p in _TITLE_PARTS.split(text) if p and p.strip()]
    if len(parts) > 1:
        heading = main_heading(selector)
        heading_text = _clean(heading.text_content()) if heading is not None else ""
        for part in parts:
            if heading_text and _fold(part) == _fold(heading_text):
                return part.strip()
        kept = [p for p in parts if not is_shop(p)]
        if kept and len(kept) < len(parts):
            # Rejoin what is left with the separators it had: drop only the shop's own parts.
            text = _drop_parts(text, [p for p in parts if is_shop(p)])
    return text.strip() or str(title)


def _drop_parts(text: str, shop_parts: list[str]) -> str:
    for part in shop_parts:
        text = re.sub(rf"(\s*(?:[|｜]|\s[-–—:·»]\s|::)\s*)?{re.escape(part.strip())}(\s*(?:[|｜]|\s[-–—:·»]\s|::)\s*)?",
                      lambda m: " " if m.group(1) and m.group(2) else "", text, count=1)
    return _clean(text)
