"""Contact handles in listing text: WeChat, QQ, phone, Telegram, WhatsApp, Line, Signal, e-mail.

Enforcement acts on sellers, and a seller is reached (and recognised under a new account) by the
handle it leaves in the text.  Traders disguise handles the way they disguise product words
(classifier.text): full-width or circled digits, digits written as Chinese numerals (一三八, 壹贰叁,
幺 for 1, 两 for 2), separators and emoji inside numbers and IDs, homophone markers for WeChat
(威信, 薇信, V信, vx, 卫星, 🛰) and QQ (扣扣, 企鹅), "备注来意", e-mails with (at), [at] or #.

How it works, all pure and linear in the text:

1. A *view* of the text is built one original character at a time (NFKC, lower case, invisible
   characters dropped, digits of other scripts and look-alike Cyrillic/Greek letters folded, runs
   of Chinese numerals and of English number words turned into digits); every view character
   remembers the original span it came from, so each handle's ``start``/``end`` is a slice of the
   original text and ``surface`` is exactly ``text[start:end]`` (the review app highlights it).
2. Markers (微信, QQ, 电话, WhatsApp, t.me/, ...) are found in the view; a marker, the filler after
   it (":", "号", "备注来意", brackets, emoji, "/" and further markers) and the value that follows
   make one handle per marker type (微信/QQ同号 12345678 is both).
3. Digit runs (digits joined by spaces, dashes, dots or emoji) become numbers: with a marker they
   take the marker's type; without one only numbers that are unmistakably phones are kept (a
   mainland mobile, a Taiwan 09 mobile, an international +/00 number, a Hong Kong 8-digit mobile
   near "HK"/"香港"), and only when no order/tracking/model/ISBN label, currency sign, unit or date
   shape says otherwise.  Phone numbers are checked with ``phonenumbers`` and written in E.164.
   A marker after the number counts too (13812345678（微信同号）), and so does one after an ID
   (horn2024（微信）, "@name on Telegram").  A national number written with its trunk 0 needs a
   marker and a region: the one the text names, else the only likely one that knows it.
4. E-mails, in plain and disguised spellings, are found first and win over anything inside them;
   e-mails and ordinary links are blanked out before numbers are read (item.htm?id=1381234...).

Normalised values: WeChat, Telegram, Line and Signal IDs lower case without "@"; QQ and
WeChat numbers as digits (a WeChat account that is a +86 mobile: the 11 national digits); phone,
WhatsApp (and a Telegram/Line/Signal handle given as a number) in E.164; e-mail lower case.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import phonenumbers

__all__ = [
    "HANDLE_TYPES",
    "TEXT_FIELDS",
    "Handle",
    "extract_handles",
    "extract_row_handles",
    "handles_in_fields",
    "handle_key",
    "normalise_value",
    "pseudonymise",
]

log = logging.getLogger(__name__)

HANDLE_TYPES = ("wechat", "qq", "phone", "telegram", "whatsapp", "line", "signal", "email")


@dataclass(frozen=True)
class Handle:
    """One contact handle: ``surface == original_text[start:end]`` of the field it came from.

    ``start``/``end`` are Python string indices (code points); a browser counting UTF-16 units
    must convert them where astral characters (emoji) come before the handle.
    """

    type: str
    value: str
    surface: str
    start: int
    end: int
    field: str = "text"


def handle_key(handle: Handle) -> str:
    """The key that links sellers: the same handle anywhere gives the same key ("wechat:abc123")."""
    return f"{handle.type}:{handle.value}"


def pseudonymise(value: str, key: bytes) -> str:
    """A keyed hash of a handle value for exports: HMAC-SHA256, hex, first 16 characters.

    The same value and key always give the same pseudonym (networks stay linkable in an export);
    without the key the value cannot be recovered or confirmed by hashing guesses.
    """
    if not isinstance(key, (bytes, bytearray)) or not key:
        raise ValueError("pseudonymise needs a non-empty bytes key")
    return hmac.new(bytes(key), value.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


# --- the view: normalised characters that remember where they came from ---------------------

# Invisible characters: format (Cf), variation selectors, skin tones, the keycap combiner (1️⃣).
_INVISIBLE_EXTRA = set(range(0xFE00, 0xFE10)) | set(range(0x1F3FB, 0x1F400)) | {0x20E3}

# Cyrillic and Greek letters that look like Latin ones (vх, hоrn with Cyrillic х, о).
_CONFUSABLES = {
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t",
    "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ν": "v", "ο": "o",
    "α": "a", "ρ": "p", "τ": "t", "κ": "k", "ι": "i", "υ": "u", "χ": "x", "ε": "e", "ω": "w",
    "✌": "v",  # the victory hand is a V (加✌信)
}
_NUMERALS = {
    "〇": "0", "○": "0", "零": "0", "洞": "0",
    "一": "1", "壹": "1", "幺": "1", "么": "1",
    "二": "2", "贰": "2", "貳": "2", "两": "2", "兩": "2",
    "三": "3", "叁": "3", "參": "3", "叄": "3",
    "四": "4", "肆": "4",
    "五": "5", "伍": "5",
    "六": "6", "陆": "6", "陸": "6",
    "七": "7", "柒": "7", "拐": "7",
    "八": "8", "捌": "8",
    "九": "9", "玖": "9", "勾": "9",
}
_EMOJI = "\u2190-\u21ff\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff"
# What may stand between the digits of one number or the characters of one ID.
_INNER_SEP = f"[ \t\\-.·•*_~()\u2010-\u2015{_EMOJI}]"
# A run of 4+ numeral-like characters (Chinese numerals count only inside such runs, so 一口价,
# 三只 and 1斤3两 stay words).
_NUMERAL_RUN_RE = re.compile(
    f"[0-9{''.join(_NUMERALS)}](?:{_INNER_SEP}{{0,3}}[0-9{''.join(_NUMERALS)}]){{3,}}"
    f"|(?<=[a-z])[{''.join(_NUMERALS)}]{{2,}}"
)


def _numerals_to_convert(run: str) -> list[int]:
    """Which Chinese numerals of a digit-like run stand for digits: all of them when there are four
    or more (一三八 幺二三四), those between digits (138一二三45678), two or more at an edge
    (1381234五六七八); not a lone one beside a number (13812345678零售, 13812345678一件代发)."""
    positions = [i for i, ch in enumerate(run) if ch in _NUMERALS]
    if len(positions) >= 4:
        return positions
    digits = [i for i, ch in enumerate(run) if ch.isdigit()]
    if not digits:
        return positions
    inside = [i for i in positions if digits[0] < i < digits[-1]]
    before = [i for i in positions if i < digits[0]]
    after = [i for i in positions if i > digits[-1]]
    return inside + (before if len(before) >= 2 else []) + (after if len(after) >= 2 else [])


@dataclass
class _View:
    text: str
    starts: list[int]
    ends: list[int]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original [start, end) of view characters [start, end)."""
        return self.starts[start], self.ends[end - 1]


def _is_invisible(char: str) -> bool:
    code = ord(char)
    if code in _INVISIBLE_EXTRA or 0xE0100 <= code <= 0xE01EF:
        return True
    category = unicodedata.category(char)
    return category == "Cf" or (category == "Cc" and char not in "\n\t\r")


def _build_view(text: str) -> _View:
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for index, char in enumerate(text):
        if _is_invisible(char):
            continue
        folded = unicodedata.normalize("NFKC", char).lower() if ord(char) > 0x7F else char.lower()
        if len(folded) == 1 and not folded.isascii():
            if unicodedata.category(folded) in ("Nd", "No") and unicodedata.digit(folded, None) is not None:
                folded = str(unicodedata.digit(folded))  # ٣, ३, ❶, ➊: digits of other scripts and dingbats
            else:
                folded = _CONFUSABLES.get(folded, folded)
        for out in folded:
            chars.append(out)
            starts.append(index)
            ends.append(index + 1)
    view = "".join(chars)
    if any(ch in _NUMERALS for ch in view):
        converted = list(view)
        for run in _NUMERAL_RUN_RE.finditer(view):
            for i in _numerals_to_convert(run.group()):
                converted[run.start() + i] = _NUMERALS[view[run.start() + i]]
        view = "".join(converted)
    if _WORD_DIGITS_RE.search(view):
        view, starts, ends = _collapse_number_words(view, starts, ends)
    if _LOOKALIKE_RUN_RE.search(view):
        view = _LOOKALIKE_RUN_RE.sub(_lookalike_digits, view)
    return _View(view, starts, ends)


# l38 l234 5678, 138OO138OOO: letters standing in for digits inside a number.  Every token of
# the run holds a real digit, the first starts with at most one stand-in, the run has 5+ real digits and
# no more stand-ins than digits, and no other letter touches it, so words (oil, lol) and IDs
# (lo1388...) stay as they are.
_LOOKALIKE_RUN_RE = re.compile(
    r"(?<![a-z0-9_\-])[oli]?\d[0-9oli]*(?:[ \-.]{1,2}[0-9oli]*\d[0-9oli]*)*(?![a-z0-9_])"
)
_LOOKALIKE = str.maketrans({"o": "0", "l": "1", "i": "1"})


def _lookalike_digits(match: re.Match[str]) -> str:
    run = match.group()
    letters = sum(ch in "oli" for ch in run)
    digits = sum(ch.isdigit() for ch in run)
    if not letters or digits < 5 or letters > digits or not 7 <= letters + digits <= 15:
        return run
    return run.translate(_LOOKALIKE)


_WORD_DIGIT = {
    "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9",
}
_WORD_DIGIT_ALT = "|".join(sorted(_WORD_DIGIT, key=len, reverse=True))
# Five or more number words in a row ("one three eight ..."): a number spelled out to dodge filters.
_WORD_DIGITS_RE = re.compile(
    rf"(?<![a-z])(?:plus\s)?(?:{_WORD_DIGIT_ALT})(?:[\s\-,.]{{1,2}}(?:{_WORD_DIGIT_ALT})){{4,}}(?![a-z])"
)
_ONE_WORD_RE = re.compile(f"plus|{_WORD_DIGIT_ALT}")


def _collapse_number_words(view: str, starts: list[int], ends: list[int]):
    """Each number word of a spelled-out run becomes one digit that spans the whole word."""
    out, out_starts, out_ends, pos = [], [], [], 0
    for run in _WORD_DIGITS_RE.finditer(view):
        out.append(view[pos:run.start()])
        out_starts += starts[pos:run.start()]
        out_ends += ends[pos:run.start()]
        # The separators between the words go ("one-three-eight, one-two ..." is one number).
        for word in _ONE_WORD_RE.finditer(view, run.start(), run.end()):
            out.append(_WORD_DIGIT.get(word.group(), "+"))
            out_starts.append(starts[word.start()])
            out_ends.append(ends[word.end() - 1])
        pos = run.end()
    out.append(view[pos:])
    out_starts += starts[pos:]
    out_ends += ends[pos:]
    return "".join(out), out_starts, out_ends


# --- markers -------------------------------------------------------------------------------

_PLUS = r"(?:加|\+|➕|＋)\s?"
_WECHAT_WORDS = (
    "微信", "威信", "薇信", "徽信", "维信", "危信", "微心", "v信", "v心", "威心", "薇心", "微芯", "薇芯", "威芯",
    "卫星v", "卫星", "绿泡泡",
)
_SPLIT = f"(?:[\\s·*\\-_.~]|[{_EMOJI}]){{0,3}}"


def _cjk(*words: str) -> str:
    """Alternatives for CJK markers with one optional separator between characters (微 信, 扣-扣)."""
    return "|".join(_SPLIT.join(re.escape(ch) for ch in word) for word in sorted(words, key=len, reverse=True))

# (type, strength, pattern).  "weak" markers are common words or single letters: their values
# must look like handles (a digit, "_" or ".").  "link" markers are the start of a handle's URL,
# the value follows with nothing between.  E-mails are found by their own pattern.
_MARKERS: tuple[tuple[str, str, str], ...] = (
    ("telegram", "link", r"(?:https?://)?(?:www\.)?(?:t|telegram)\s?\.\s?(?:me|dog)\s?/\s?(?!joinchat|\+)"),
    ("whatsapp", "link", r"(?:https?://)?(?:wa\.me/|api\.whatsapp\.com/send/?\?phone=)"),
    ("line", "link", r"(?:https?://)?line\.me/(?:r/)?ti/p/[~@]?"),
    ("signal", "link", r"(?:https?://)?signal\.me/#p/"),
    ("wechat", "strong",
     rf"(?:{_PLUS})?(?:{_cjk(*_WECHAT_WORDS)}|wei信|🛰)"
     rf"|(?<![a-z0-9])(?:v{_SPLIT}x|w{_SPLIT}x|wechat|we chat|wei\s?xin)(?![a-z])"),
    ("wechat", "weak",
     rf"{_PLUS}(?:v|微|薇|威)(?![a-z])|(?<![a-z0-9])v(?=(?:\s|[{_EMOJI}]){{0,3}}[:：=])|(?:微|薇|威)(?=\s?[:：])"
     r"|(?<![a-z0-9])v(?=1[3-9]\d{9}(?!\d))"),
    ("qq", "strong", rf"(?<![a-z0-9])q{_SPLIT}q(?![a-z])|" + _cjk("扣扣", "抠抠", "蔻蔻", "寇寇", "企鹅") + "|🐧"),
    ("qq", "weak", r"(?<![a-z0-9])q(?=\s?[:：号群]|\s?\d{6})"),
    ("whatsapp", "strong", r"(?<![a-z])(?:what[’'`]?s[\s\-]?app|whats?ap|wats[\s\-]?app|whtsapp)(?![a-z])"),
    ("whatsapp", "weak", r"(?<![a-z])(?:wa|w/a)(?=\s?[:：]|\s?\+\d)"),
    ("telegram", "strong", r"(?<![a-z])telegram(?![a-z])|电报|電報|纸飞机|紙飛機"),
    ("telegram", "weak", r"(?<![a-z0-9])tg(?![a-z0-9])|飞机|飛機|✈"),
    ("line", "strong",
     rf"(?<![a-z])line(?:\s|[{_EMOJI}]){{0,3}}id(?![a-z])|加我?\s?line(?![a-z])|line\s?(?:帐号|帳號|账号)|加我?賴|加我?赖|賴\s?id|ไลน์"),
    ("line", "weak", r"(?<![a-z])line(?=\s?(?:[:：@]|搜|号|號))|賴(?=\s?[:：])"),
    ("signal", "weak", r"(?<![a-z])signal(?![a-z])"),
    ("phone", "strong",
     r"(?<![a-z])(?:zalo|sđt|sdt|điện thoại|dien thoai)(?![a-z])|โทร|电话|電話|手机|手機|手提|电联|電聯|致电|致電|热线|熱線|座机|座機|固话|联系方式|聯繫方式|聯絡方式|📞|☎|☏|📱"
     r"|(?<![a-z])(?:tel|phone|mobile|mob|cell|call|hotline)(?![a-z])"),
    ("phone", "weak", r"联系|聯繫|聯絡|短信|簡訊|(?<![a-z])(?:contact|text|sms|dial|ring)(?![a-z])"),
)
_MARKER_RE = re.compile("|".join(f"(?P<m{i}>{pattern})" for i, (_, _, pattern) in enumerate(_MARKERS)))
_MARKER_INFO = {f"m{i}": (kind, strength) for i, (kind, strength, _) in enumerate(_MARKERS)}
_URL_MARKERS = {f"m{i}" for i, (_, strength, _) in enumerate(_MARKERS) if strength == "link"}

# What may stand between a marker and its value (or between chained markers).
_FILLER_RE = re.compile(
    rf"(?:[\s:：=\-—–~>→⇒➡☞@()（）\[\]【】「」『』<>《》\"“”'‘’/|、&.{_EMOJI}]"
    r"|号码|號碼|号|號|码|碼|帐号|账号|帳號|帐户|账户|是|为|為|搜索|搜寻|搜尋|搜|同号|同號|群|备注来意|备注|"
    r"扫一扫|扫码|或者|或是|也可以|香港|台灣|台湾|"
    r"和|或|加我|加|用户名|用戶名|(?<![a-z])(?:id|no\.?|number|num|me|at|on|us|via|or|and|only|just"
    r"|viber|imo|skype|imessage|username|user|handle|account|hk|uk|us|sg|my|tw)(?![a-z0-9]))*"
)
_MAX_FILLER = 14
_ID_AFTER_DIGITS_RE = re.compile(r"[a-z_]")  # 88wild: digits that start an ID, not a number
_CJK_RE = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]")


# --- digit runs ----------------------------------------------------------------------------

_RUN_RE = re.compile(rf"(?<![\d+])(?:\+\s?)?\d(?:{_INNER_SEP}{{0,3}}\d)*")
_GROUP_RE = re.compile(r"\d+")
_UNIT_AFTER_RE = re.compile(
    r"(?:两|兩|\s?(?:元|块|塊|圆|圓|克|斤|公斤|千克|件|只|隻|个|個|对|對|片|颗|顆|枚|根|条|條|套|盒|瓶|串|年|月|日|号|號|岁|歲"
    r"|天|小时|分钟|秒|厘米|公分|毫米|米|寸|cm|mm|ml|kg|g|m|%|x|pcs|pc|pieces?|rmb|cny|usd|hkd|twd|ntd|eur|gbp"
    r"|万|萬|千|百|w|k))(?![a-z])"
)
_CURRENCY_BEFORE_RE = re.compile(r"(?:[¥$€£₫₦]|rmb|cny|usd|hkd|ntd|twd|hk\$|nt\$|us\$)\s?$")
# Labels that say a number is not a handle (order, tracking, model, ISBN, date ...), attached to it.
_NOT_A_HANDLE_RE = re.compile(
    r"(?:订单|單號|单号|运单|運單|快递单|物流单|编号|編號|货号|貨號|型号|型號|批号|批號|批次|条码|條碼|条形码|序列号|序号|流水号"
    r"|交易号|发票|發票|身份证|身份證|证号|證號|证书|證書|卡号|卡號|账户|帳戶|户号|工号|学号|房号|邮编|郵編|价格|價格|售价|售價|价|價"
    r"|重量|尺寸|日期|时间|時間|年份|护照|護照|密码|密碼|口令|验证码|驗證碼|兑换码|兌換碼|券码|卡密"
    r"|(?:商品|宝贝|寶貝|产品|產品)\s?id"
    r"|(?<![a-z])(?:isbn(?:-1[03])?|issn|ean|upc|sku|order|tracking|track|serial|s/n|sn|model|invoice|ref|reference"
    r"|item|lot|code|passport|zip|postcode|price|weight|size|date|year|vin|imei|batch|password|passcode|pwd|pin"
    r"|otp)(?![a-z]))"
    r"(?:[\s:：#=\-.()（）\[\]【】]|号|號|码|碼|no\.?|number|num)*$"
)
_URL_RE = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'，。]+"
    r"|(?<![a-z0-9@.])(?:[a-z0-9\-]+\.)+(?:com|cn|net|org|hk|tw)/[^\s<>\"'，。]*"
)
_HANDLE_URL_RE = re.compile(
    r"(?:https?://)?(?:www\.)?(?:t\s?\.\s?me|telegram\.me|telegram\.dog|wa\.me|api\.whatsapp\.com|line\.me|signal\.me)\s?/"
)
_AT_NAME_RE = re.compile(
    r"(?<![a-z0-9._%+\-])@(?P<name>[a-z][a-z0-9_]{4,31})(?![a-z0-9_@.])"
    r"(?=\s?[(（【\[]?\s?(?:on\s|at\s|via\s)?(?P<app>telegram|tg|电报|電報|飞机|飛機|纸飞机|line)"
    r"(?![a-z0-9])(?!\s\d))"
)
# An ID named after it: horn2024（微信）, horn_tw (LINE), "add horn2024 on WeChat", horn2024是我的微信.
_ID_THEN_MARKER_RE = re.compile(
    r"(?<![a-z0-9_@.\-])(?P<id>[a-z][a-z0-9_.\-]{3,31})"
    r"(?:\s?[(（【\[]\s?(?P<m1>微信|威信|薇信|v信|vx|wx|wechat|line|tg|telegram|电报|電報)\s?(?:号|id)?\s?[)）】\]]"
    r"|\s?(?:是我的|是我|是)(?P<m2>微信|威信|薇信|v信|vx|wx|line|电报|電報)"
    r"|(?<=[a-z0-9_]) on (?P<m3>wechat|line|telegram)(?![a-z]))"
)
_ID_MARKER_KIND = {
    "微信": "wechat", "威信": "wechat", "薇信": "wechat", "v信": "wechat", "vx": "wechat", "wx": "wechat",
    "wechat": "wechat", "line": "line", "tg": "telegram", "telegram": "telegram", "电报": "telegram", "電報": "telegram",
}
_HK_RE = re.compile(
    r"(?<![a-z])(?:hk|hong\s?kong|hongkong|kowloon|mong kok)(?![a-z])|香港|港澳|港幣|港币|旺角|尖沙咀|銅鑼灣|铜锣湾|九龍|九龙"
    r"|新界|荃灣|觀塘|沙田|\+852|(?<![\d.])852(?=[\s\-)])"
)
_REGION_HINTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("TW", re.compile(r"台湾|台灣|臺灣|(?<![a-z])(?:taiwan|tw)(?![a-z])")),
    ("HK", _HK_RE),
    ("VN", re.compile(r"越南|(?<![a-z])(?:vietnam|viet nam|việt nam|hanoi|hà nội|saigon|sài gòn|zalo|sđt)(?![a-z])")),
    ("TH", re.compile(r"[\u0e00-\u0e7f]|泰国|泰國|(?<![a-z])(?:thailand|bangkok)(?![a-z])")),
    ("SG", re.compile(r"新加坡|(?<![a-z])(?:singapore|sg)(?![a-z])")),
    ("MY", re.compile(r"马来西亚|馬來西亞|(?<![a-z])(?:malaysia|kuala lumpur|kl)(?![a-z])")),
    ("NG", re.compile(r"尼日利亚|(?<![a-z])(?:nigeria|lagos|abuja|naija)(?![a-z])")),
    ("GB", re.compile(r"英国|英國|(?<![a-z])(?:uk|united kingdom|britain|england|london)(?![a-z])")),
)


@dataclass
class _Run:
    start: int
    end: int
    groups: list[tuple[int, int]]  # view spans of the digit groups
    plus: bool
    glued: bool  # a letter or code character touches its start


def _find_runs(view: str) -> dict[int, _Run]:
    runs: dict[int, _Run] = {}
    for match in _RUN_RE.finditer(view):
        start, end = match.start(), match.end()
        groups = [(start + m.start(), start + m.end()) for m in _GROUP_RE.finditer(match.group())]
        before = view[start - 1] if start else ""
        glued = before.isalnum() and not unicodedata.category(before).startswith("Lo") or (
            before in "-_#/." and start > 1 and view[start - 2].isalnum()
        )
        if glued and len(groups) > 1 and re.search(r"[ \t]", view[groups[0][1]:groups[1][0]]):
            # horn2024 13812345678: the first group ends a word, the rest stands on its own
            groups = groups[1:]
            start, glued = groups[0][0], False
        plus = view[start] == "+"
        runs[start] = _Run(start, end, groups, plus, glued)
    return runs


def _digits(view: str, groups: list[tuple[int, int]]) -> str:
    return "".join(view[s:e] for s, e in groups)


def _looks_like_date(view: str, groups: list[tuple[int, int]]) -> bool:
    lengths = [e - s for s, e in groups]
    digits = _digits(view, groups)
    if lengths in ([4, 2, 2], [4, 1, 1], [4, 1, 2], [4, 2, 1], [2, 2, 4], [1, 1, 4], [2, 1, 4], [1, 2, 4]):
        return True
    if len(digits) == 8 and digits[:2] in ("19", "20") and "01" <= digits[4:6] <= "12" and "01" <= digits[6:] <= "31":
        return True
    return False


def _e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _parse(digits: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


_MOBILE = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def _phone(
    digits: str, plus: bool, *, marked: bool, hk_near: bool, regions: tuple[str, ...], area_code: bool = False,
) -> str | None:
    """E.164 of a digit string if it is a phone number under the evidence at hand, else None.

    Unmarked numbers must be unmistakable: +/00 international, a mainland mobile (optionally with
    86), a Taiwan 09 mobile (optionally with 886), a Hong Kong mobile with 852 or HK nearby.
    A marker (电话, WhatsApp ...) also admits landlines and national numbers of a region the text
    names, and a bare country code without "+".
    """
    if plus or digits.startswith("00"):
        number = _parse("+" + (digits[2:] if not plus else digits), None)
        return _e164(number) if number else None
    if re.fullmatch(r"1[3-9]\d{9}", digits):
        number = _parse(digits, "CN")
        return _e164(number) if number else None
    if re.fullmatch(r"861[3-9]\d{9}", digits):
        number = _parse(digits[2:], "CN")
        return _e164(number) if number else None
    if re.fullmatch(r"09\d{8}", digits) and "VN" not in regions[:1]:
        number = _parse(digits, "TW")
        if number and phonenumbers.number_type(number) in _MOBILE:
            return _e164(number)
    if re.fullmatch(r"8869\d{8}", digits):
        number = _parse("+" + digits, None)
        return _e164(number) if number else None
    hong_kong = hk_near or marked and "HK" in regions
    if re.fullmatch(r"852[2-9]\d{7}", digits) or (re.fullmatch(r"[2-9]\d{7}", digits) and hong_kong):
        number = _parse(digits[-8:], "HK")
        # a mobile on HK context alone; a landline (2345 6789) only beside a phone marker
        if number and (marked or phonenumbers.number_type(number) in _MOBILE):
            return _e164(number)
    if not marked:
        if area_code:  # 0755-8888 6666, (02)2345-6789: a landline written with its area code
            for region in (*[r for r in regions if r in ("TW", "HK")], "CN", "TW"):
                number = _parse(digits, region)
                if number and phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.FIXED_LINE:
                    return _e164(number)
        return None
    if re.fullmatch(r"[48]00\d{7}", digits):
        number = _parse(digits, "CN")  # a mainland 400/800 service line
        return _e164(number) if number else None
    for region in regions:
        if region in ("SG",) and len(digits) == 8:
            number = _parse(digits, region)  # Singapore numbers are 8 digits without a trunk 0
            if number:
                return _e164(number)
    if digits.startswith("0"):
        return _national(digits, regions)
    if len(digits) >= 10:
        number = _parse("+" + digits, None)
        if number:
            return _e164(number)
    return None


def _national(digits: str, regions: tuple[str, ...]) -> str | None:
    """E.164 of a national number written with its trunk 0 (a landline, 07911 123456, 0803 ...).

    A region the text names decides (and if none of them knows the number, nothing does: a UK
    text's 07700 900555 is no Chinese landline).  Chinese text without a named region: the
    mainland, then Taiwan.  Otherwise the number counts only when exactly one of the likely
    regions knows it.
    """
    named = [r for r in regions if r != "zh"]
    if named:
        for region in named:
            number = _parse(digits, region)
            if number:
                return _e164(number)
        return None
    if "zh" in regions:
        for region in ("CN", "TW"):
            number = _parse(digits, region)
            if number:
                return _e164(number)
        return None
    valid = {_e164(n) for n in (_parse(digits, r) for r in _FALLBACK_REGIONS) if n}
    return valid.pop() if len(valid) == 1 else None


# Where the traders in the domain notes sell from (India left out: its national 0 numbers collide
# with the UK's and Nigeria's, and Indian listings write +91).
_FALLBACK_REGIONS = ("CN", "TW", "HK", "GB", "NG", "VN", "MY", "SG", "TH", "PH", "ID", "US", "KE", "ZA", "AU")


# --- IDs -----------------------------------------------------------------------------------

_ID_CHUNK = {
    "wechat": re.compile(r"[a-z0-9_\-]+"),
    "telegram": re.compile(r"[a-z0-9_]+"),
    "line": re.compile(r"[a-z0-9_.\-]+"),
    "signal": re.compile(r"[a-z0-9_.]+"),
}
_ID_DECORATION_RE = re.compile(f"(?:[·•*~.\u2010-\u2015{_EMOJI}]|[ \t]{{1,2}}){{1,3}}")
_ID_VALID = {
    "wechat": re.compile(r"[a-z][a-z0-9_\-]{5,19}"),
    "telegram": re.compile(r"[a-z][a-z0-9_]{3,30}[a-z0-9]"),
    "line": re.compile(r"[a-z0-9][a-z0-9_.\-]{2,18}[a-z0-9]"),
    "signal": re.compile(r"[a-z_][a-z0-9_]{2,31}\.\d{2,9}"),
}
_STOPWORDS = frozenset(
    "available only please contact add account number friend friends message details detail price info "
    "here now same below above first inquiry enquiry chat call text free welcome official search scan code "
    "qrcode wechat weixin whatsapp telegram signal line email mail phone mobile group channel private "
    "seller store shop buyer dealer for sale ivory wholesale instock nego asking obo ono".split()
)


def _read_id(view: str, pos: int, kind: str, *, join_spaced: bool) -> tuple[str, int] | None:
    """The ID that starts at ``pos`` (decorations inside dropped) and where it ends in the view."""
    chunk_re = _ID_CHUNK[kind]
    first = chunk_re.match(view, pos)
    if not first:
        return None
    parts, end = [first.group()], first.end()
    ends = [end]
    word_join = None  # where letters-only words were first joined (xiang ya 88)
    while len("".join(parts)) < 40:
        sep = _ID_DECORATION_RE.match(view, end)
        if not sep:
            break
        nxt = chunk_re.match(view, sep.end())
        if not nxt:
            break
        if any(c in " \t" for c in sep.group()):
            # Across a space only spelled-out characters join (a b c 1 2 3); in Chinese text also a
            # short digit group (horn 2024), never a quantity (abc123 2件).  In English text
            # ("Telegram: Pixel 8") a space ends the ID.
            piece = nxt.group()
            spelled = len(piece) == 1 and len(parts[-1]) == 1
            short = piece.isdigit() and len(piece) <= 4 or len(piece) == 1 or len(parts[-1]) == 1
            # 微信：xiang ya 88: letters-only parts so far, a short next part that names nothing;
            # kept only if a digit joins in the end ("same day ship" stays words).
            words = not short and (
                not any(ch.isdigit() for part in parts for ch in part) and len(piece) <= 6
                and piece not in _STOPWORDS and not _MARKER_RE.fullmatch(piece)
            )
            if not (spelled or join_spaced and (short or words)):
                break
            if words and word_join is None:
                word_join = len(parts)
            if _UNIT_AFTER_RE.match(view, nxt.end()):
                break
            if not sep.group().strip(" \t") == "":
                break
        parts.append(nxt.group())
        end = nxt.end()
        ends.append(end)
    if word_join is not None and not any(ch.isdigit() for ch in "".join(parts[word_join:])):
        parts, end = parts[:word_join], ends[word_join - 1]
    ident = "".join(parts)
    stripped = ident.rstrip("-_.")
    end -= len(ident) - len(stripped)
    pieces = re.split(r"[-_.]", stripped)
    if len(pieces) >= 4 and all(len(piece) == 1 for piece in pieces):
        stripped = "".join(pieces)  # a-b-c-1-2-3: spelled out, not an ID with dashes
    return (stripped, end) if stripped else None


def _valid_id(kind: str, ident: str, *, strong: bool, explicit: bool) -> bool:
    if not _ID_VALID[kind].fullmatch(ident) or ident in _STOPWORDS:
        return False
    if _MARKER_RE.fullmatch(ident):
        return False
    handle_like = bool(re.search(r"[0-9_.]", ident))
    if kind == "wechat" and ident.isdigit():
        return False
    if kind == "signal":
        return explicit
    if not strong and not handle_like:
        return False  # "Part V: elephant": a weak marker needs a value that looks like a handle
    if not handle_like and not explicit:
        return False  # "WeChat available", "加微信 instock": a letters-only ID needs ":" or "号"/"id"
    return True


# --- e-mail --------------------------------------------------------------------------------

_TLDS = (
    "com|net|org|cn|hk|tw|mo|info|io|co|uk|de|fr|jp|kr|vn|ng|me|edu|gov|biz|us|ca|au|nz|sg|my|th|ph|id|in|ru|eu|"
    "top|xyz|online|cc|tv|ch|nl|it|es|se|no|za|ke|ae"
)
_DOT = r"\s?(?:\.|。|\(\s?(?:dot|\.)\s?\)|\[\s?(?:dot|\.)\s?\]|\{\s?dot\s?\}|<dot>|【dot】|点|點|\sdot\s)\s?"
_EMAIL_RE = re.compile(
    r"(?<![a-z0-9._%+\-])(?P<local>[a-z0-9](?:[a-z0-9._%+\-]{0,62}[a-z0-9])?)"
    r"(?P<at>\s?(?:@|\(\s?at?\s?\)|\[\s?at?\s?\]|\(@\)|\[@\]|圈a|圈|\{\s?at\s?\}|<at>|【at】|#|艾特|\s(?:at)\s)\s?)"
    r"(?P<domain>[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?"
    rf"(?:{_DOT}[a-z0-9](?:[a-z0-9\-]{{0,61}}[a-z0-9])?)+)"
    r"(?![a-z0-9])"
)
_FILE_EXTENSIONS = frozenset(
    "png jpg jpeg gif webp svg bmp pdf doc docx xls xlsx zip rar mp4 mov js css html htm".split()
)
_MAIL_PROVIDERS = frozenset(
    "gmail googlemail yahoo hotmail outlook live msn icloud me aol protonmail proton pm gmx mail yandex zoho "
    "qq foxmail 163 126 yeah sina sohu 139 189 aliyun tom 21cn naver daum hanmail".split()
)
_DOT_RE = re.compile(_DOT)


def _find_emails(view: str) -> list[tuple[int, int, str]]:
    found = []
    for match in _EMAIL_RE.finditer(view):
        labels = _DOT_RE.split(match.group("domain"))
        if len(labels) < 2 or not re.fullmatch(r"[a-z]{2,24}", labels[-1]) or labels[-1] in _FILE_EXTENSIONS:
            continue
        plain = match.group("at") == "@" and all(
            sep == "." for sep in _DOT_RE.findall(match.group("domain"))
        )
        if not plain and not re.fullmatch(_TLDS, labels[-1]):
            continue
        at = match.group("at").strip()
        if at in ("at", "#") and not (
            re.search(r"[\d._]", match.group("local")) or labels[0] in _MAIL_PROVIDERS
            or not all(sep == "." for sep in _DOT_RE.findall(match.group("domain")))
        ):
            continue  # "available at amazon.com", "tag#news.com": a word, not a mailbox
        found.append((match.start(), match.end(), f"{match.group('local')}@{'.'.join(labels)}"))
    return found


# --- extraction ----------------------------------------------------------------------------


@dataclass
class _Chain:
    kinds: list[tuple[str, str]]  # (type, strength) of each marker
    start: int
    value_start: int
    filler: str
    url: bool


def _chains(view: str) -> list[_Chain]:
    markers = list(_MARKER_RE.finditer(view))
    chains: list[_Chain] = []
    i = 0
    while i < len(markers):
        first = markers[i]
        kinds = [_MARKER_INFO[first.lastgroup]]
        url = first.lastgroup in _URL_MARKERS
        filler_text = ""
        pos = first.end()
        while True:
            if url:
                break
            fill = _FILLER_RE.match(view, pos)
            if fill.end() - pos > _MAX_FILLER:
                break
            nxt = markers[i + 1] if i + 1 < len(markers) else None
            if nxt is not None and nxt.start() == fill.end() and nxt.lastgroup not in _URL_MARKERS:
                filler_text += fill.group()
                kinds.append(_MARKER_INFO[nxt.lastgroup])
                pos = nxt.end()
                i += 1
                continue
            filler_text += fill.group()
            pos = fill.end()
            break
        if "同号" in filler_text or "同號" in filler_text:
            kinds.append(("phone", "strong"))
        chains.append(_Chain(kinds, first.start(), pos, filler_text, url))
        i += 1
    return chains


_POSTFIX_MARKER = r"微信|威信|薇信|v信|vx|wx|wechat|qq|扣扣|企鹅|电话|手机|whatsapp|telegram|tg|signal|line"
_POSTFIX_RE = re.compile(
    rf"[\s(（【\[/，,、]{{0,3}}(?P<same>同|也是)?(?P<markers>(?:{_POSTFIX_MARKER})(?:\s?[/、&]\s?(?:{_POSTFIX_MARKER}))*)"
    r"(?![a-z])(?P<same2>同号|同號|同)?(?:(?<=[号號])|[)）】\]]|$|[\s,，。;；!！.?？])"
)
_POSTFIX_KIND = {
    "微信": "wechat", "威信": "wechat", "薇信": "wechat", "v信": "wechat", "vx": "wechat", "wx": "wechat",
    "wechat": "wechat", "qq": "qq", "扣扣": "qq", "企鹅": "qq", "电话": "phone", "手机": "phone",
    "whatsapp": "whatsapp", "telegram": "telegram", "tg": "telegram", "signal": "signal", "line": "line",
}


def _region_hints(view: str) -> tuple[str, ...]:
    """Regions the text names, and "zh" when it is written in Chinese at all."""
    hints = tuple(region for region, pattern in _REGION_HINTS if pattern.search(view))
    return hints + (("zh",) if _CJK_RE.search(view) else ())


def _classify_digits(
    view: str, run: _Run, groups: list[tuple[int, int]], kinds: set[str], *, plus: bool,
    marked: bool, regions: tuple[str, ...],
) -> list[tuple[str, str]]:
    digits = _digits(view, groups)
    start, end = groups[0][0], groups[-1][1]
    hk_near = (
        bool(_HK_RE.search(view, max(0, start - 40), start)) or bool(_HK_RE.search(view[end:end + 15]))
        or digits.startswith("852")
    )
    found: list[tuple[str, str]] = []
    first = groups[0]
    area_code = (
        len(groups) >= 2 and view[first[0]] == "0" and 2 <= first[1] - first[0] <= 4
        and bool(re.search(r"[-)]", view[first[1]:groups[1][0]]))
    )
    phone = _phone(digits, plus, marked=marked, hk_near=hk_near, regions=regions, area_code=area_code)
    if "qq" in kinds and 5 <= len(digits) <= 11 and not digits.startswith("0") and not plus:
        found.append(("qq", digits))
    if "wechat" in kinds:
        if phone and phone.startswith("+86") and len(phone) == 14:
            found.append(("wechat", phone[3:]))
        elif phone and plus:
            found.append(("wechat", phone))
        elif 5 <= len(digits) <= 11 and not digits.startswith("0"):
            found.append(("wechat", digits))
    for app in ("whatsapp", "telegram", "line", "signal"):
        if app in kinds and phone:
            found.append((app, phone))
    if "line" in kinds and not phone and 4 <= len(digits) <= 20:
        found.append(("line", digits))
    if phone and ("phone" in kinds or not kinds):
        found.append(("phone", phone))
    return found


def _segments(view: str, run: _Run, kinds: set[str], marked: bool, regions) -> list[tuple[list, list]]:
    """Classify a run whole; failing that, cover it with numbers split where spaces or emoji part
    groups (two phones side by side).  Every piece must classify, or nothing is taken."""
    groups = run.groups
    whole = _classify_digits(view, run, groups, kinds, plus=run.plus, marked=marked, regions=regions)
    if whole or len(groups) < 2:
        return [(groups, whole)] if whole else []
    # Split points: a gap between groups that holds a space or emoji (not "-" or ".").
    cuts = [
        k for k in range(1, len(groups))
        if re.search(f"[ \t{_EMOJI}]", view[groups[k - 1][1]:groups[k][0]])
    ]
    if not cuts or len(groups) > 24:
        return []
    bounds = [0, *cuts, len(groups)]
    # Dynamic programme over the cut points: best[j] = pieces covering groups[:bounds[j]].
    best: dict[int, list] = {0: []}
    for j in range(1, len(bounds)):
        for i in range(j - 1, -1, -1):
            if i not in best:
                continue
            piece = groups[bounds[i]:bounds[j]]
            plus = run.plus and i == 0
            found = _classify_digits(view, run, piece, kinds, plus=plus, marked=marked, regions=regions)
            if found:
                best[j] = best[i] + [(piece, found)]
                break
    return best.get(len(bounds) - 1, [])


def extract_handles(text: str, *, field: str = "text") -> list[Handle]:
    """Every contact handle in ``text``, in order of position; ``surface == text[start:end]``."""
    if not text:
        return []
    view_obj = _build_view(text)
    view = view_obj.text
    regions = _region_hints(view)
    # (priority, view start, view end, type, value); lower priority wins an overlap.
    candidates: list[tuple[int, int, int, str, str]] = []

    emails = _find_emails(view)
    for start, end, value in emails:
        candidates.append((0, start, end, "email", value))
    # E-mails and ordinary links are blanked out (same length, so positions hold): no number or
    # marker inside them counts (item.htm?id=13812345678, weixin.qq.com/...).
    masked = [(s, e) for s, e, _ in emails]
    masked += [(u.start(), u.end()) for u in _URL_RE.finditer(view) if not _HANDLE_URL_RE.match(u.group())]
    if masked:
        chars = list(view)
        for s, e in masked:
            chars[s:e] = "\x00" * (e - s)
        view = "".join(chars)
    for at in _AT_NAME_RE.finditer(view):
        kind = "line" if at.group("app").startswith("line") else "telegram"
        candidates.append((2, at.start(), at.end(), kind, at.group("name")))
    for named in _ID_THEN_MARKER_RE.finditer(view):
        kind = _ID_MARKER_KIND[named.group("m1") or named.group("m2") or named.group("m3")]
        ident = named.group("id").rstrip("-_.")
        if kind == "telegram":
            ident = ident.replace(".", "").replace("-", "")
        if re.search(r"[0-9_]", ident) and _valid_id(kind, ident, strong=True, explicit=True):
            candidates.append((2, named.start("id"), named.start("id") + len(ident), kind, ident))

    runs = _find_runs(view)
    run_kinds: dict[int, tuple[set[str], int]] = {}
    url_starts: dict[int, int] = {}

    for chain in _chains(view):
        # A weak phone marker (联系, contact) names no channel of its own: it is a phone only when
        # nothing else names one (联系QQ 282369262 is a QQ).
        kinds = {kind for kind, strength in chain.kinds if (kind, strength) != ("phone", "weak")}
        if ("phone", "weak") in chain.kinds and "phone" not in kinds:
            kinds.add("contact")
        priority = 1 if chain.url else 2
        run = runs.get(chain.value_start)
        if run is not None and not _ID_AFTER_DIGITS_RE.match(view, run.end):
            if chain.url:
                url_starts[run.start] = chain.start
            entry = run_kinds.setdefault(run.start, (set(), priority))
            entry[0].update(kinds)
            run_kinds[run.start] = (entry[0], min(entry[1], priority))
            continue
        # ":", "@", "号", "ID" announce a value; "同号" (same number) announces none.
        explicit = bool(re.search(r"[:：@]|id|号|號", re.sub("同[号號]", "", chain.filler))) or chain.url
        cjk_marker = any(not view[c].isascii() for c in range(chain.start, min(chain.value_start, len(view))))
        for kind, strength in chain.kinds:
            if kind not in _ID_CHUNK:
                continue
            o_start, o_end = view_obj.span(chain.start, min(chain.value_start + 1, len(view)))
            near = text[max(0, o_start - 15):o_end + 40]
            read = _read_id(view, chain.value_start, kind, join_spaced=cjk_marker or bool(_CJK_RE.search(near)))
            if read is None:
                continue
            ident, end = read
            strong = strength != "weak" or (kind == "telegram" and "@" in chain.filler)
            if kind == "telegram" and strength == "weak" and "@" not in chain.filler and not chain.url:
                if not re.search(r"[:：号號]", chain.filler):
                    continue
            if _valid_id(kind, ident, strong=strong, explicit=explicit):
                start = chain.start if chain.url else chain.value_start
                if not chain.url and start and view[start - 1] == "@":
                    start -= 1  # @name: the "@" is part of what the reader sees as the handle
                candidates.append((priority, start, end, kind, ident))

    for run in runs.values():
        kinds, priority = run_kinds.get(run.start, (set(), 3))
        marked = bool(kinds)
        after = view[run.end:run.end + 1]
        postfix = _POSTFIX_RE.match(view, run.end)
        if postfix and not postfix.group("same2") and not view[postfix.end() - 1:postfix.end()] in ")）】]":
            rest = _FILLER_RE.match(view, postfix.end()).end()
            if rest < len(view) and (view[rest].isascii() and view[rest].isalnum() or view[rest] == "+"):
                postfix = None  # "13812345678 微信 horn2024": the marker names what follows it
        if postfix:
            # "13812345678 (微信同号)": the phone is also the WeChat; "13812345678 (微信)": the WeChat.
            named = {_POSTFIX_KIND[m] for m in re.findall(_POSTFIX_MARKER, postfix.group("markers"))}
            same = postfix.group("same") or postfix.group("same2")
            kinds = kinds | named | ({"phone"} if same else set())
            marked, priority = True, min(priority, 2)
        elif after.isalpha() and after.isascii():
            continue  # 13812345678abc, 5000mah: part of a word or code
        if "contact" in kinds:
            kinds = (kinds - {"contact"}) or {"phone"}
        if run.glued and priority == 3:
            continue
        groups = list(run.groups)
        # A trailing quantity after a space (QQ 12345678 2件) is not part of the number.
        unit = _UNIT_AFTER_RE.match(view, run.end)
        if unit and not postfix:
            if len(groups) > 1 and view[groups[-2][1]:groups[-1][0]].strip(" \t") == "":
                groups = groups[:-1]
            else:
                continue
        if not marked:
            if _CURRENCY_BEFORE_RE.search(view, max(0, run.start - 6), run.start):
                continue
            if _NOT_A_HANDLE_RE.search(view, max(0, run.start - 16), run.start):
                continue
            if _looks_like_date(view, groups):
                continue
            lengths = {e - s for s, e in groups}
            if not run.plus and 1 in lengths and max(lengths) >= 3:
                continue  # 0-912345-67-8: an ISBN's or a code's grouping, not a phone's
        trimmed = _Run(run.start, groups[-1][1], groups, run.plus, run.glued)
        for piece, found in _segments(view, trimmed, kinds, marked, regions):
            span_start = run.start if (run.plus and piece[0] == groups[0]) else piece[0][0]
            if priority == 1 and piece[0] == groups[0]:
                span_start = url_starts.get(run.start, span_start)  # wa.me/234...: the whole link
            for kind, value in found:
                candidates.append((priority, span_start, piece[-1][1], kind, value))

    return _resolve(text, view_obj, candidates, field)



def _resolve(text: str, view: _View, candidates, field: str) -> list[Handle]:
    """Drop candidates that overlap a stronger one (an e-mail beats the QQ number inside it);
    keep several types on one span (微信/QQ同号) and one handle per (type, span)."""
    kept: list[tuple[int, int, int, str, str]] = []
    for cand in sorted(candidates, key=lambda c: (c[0], c[1], -(c[2] - c[1]))):
        priority, start, end, kind, value = cand
        clash = False
        for k in kept:
            if k[1] < end and start < k[2]:
                if (k[1], k[2]) == (start, end) and k[3] != kind:
                    continue
                clash = True
                break
        if not clash:
            kept.append(cand)
    handles = []
    for _, start, end, kind, value in sorted(kept, key=lambda c: (c[1], HANDLE_TYPES.index(c[3]))):
        o_start, o_end = view.span(start, end)
        surface = text[o_start:o_end]
        unopened = surface.count(")") + surface.count("）") > surface.count("(") + surface.count("（")
        if o_start and text[o_start - 1] in "(（" and unopened:
            o_start -= 1  # (+44) 7911 123456: the opening bracket belongs to the number
        # A keycap or variation selector after the last character belongs to it (1️⃣).
        while o_end < len(text) and (
            unicodedata.category(text[o_end]) in ("Mn", "Me") or 0xFE00 <= ord(text[o_end]) <= 0xFE0F
        ):
            o_end += 1
        handles.append(Handle(kind, value, text[o_start:o_end], o_start, o_end, field))
    return handles


# --- normalising labelled values (evaluation, look-ups) --------------------------------------


@lru_cache(maxsize=4096)
def normalise_value(kind: str, value: str) -> str:
    """A hand-written handle value in the extractor's normal form ("@Name" → "name",
    "+86 138-1234-5678" → "+8613812345678"), so labels written by people compare fairly."""
    if kind not in HANDLE_TYPES:
        raise ValueError(f"unknown handle type {kind!r}")
    folded = unicodedata.normalize("NFKC", value).strip().lower()
    digits = re.sub(r"[^\d+]", "", folded)
    numeric = bool(re.fullmatch(r"\+?[\d\s\-().]+", folded))
    if kind in ("phone", "whatsapp") or (kind in ("telegram", "line", "signal") and numeric):
        if digits.startswith("+") or digits.startswith("00"):
            number = _parse("+" + digits.lstrip("+")[2 if digits.startswith("00") else 0:], None)
        else:
            number = _parse(digits, "CN") or _parse(digits, "TW") or _parse("+" + digits, None)
        return _e164(number) if number else digits
    if kind in ("qq",):
        return re.sub(r"\D", "", folded)
    if kind == "wechat" and re.fullmatch(r"\+?[\d\s\-().]+", folded):
        if digits.startswith("+86") and len(digits) == 14:
            return digits[3:]
        return digits
    if kind == "email":
        return re.sub(r"\s", "", folded)
    return folded.lstrip("@").strip()


# ---- handles of listing rows (the store keeps them per listing: store.handles) -------------------------------

#: The listing fields handles are looked for in (a seller name such as "微信 hx8899 直销" is one).
TEXT_FIELDS = ("title", "description", "seller_name", "location", "price_text")


def handles_in_fields(fields: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(field, type, normalised value) of every handle in the text `fields`, each once."""
    found: dict[tuple[str, str, str], None] = {}
    for field, text in fields.items():
        if not isinstance(text, str) or not text:
            continue
        for handle in extract_handles(text, field=field):
            found[(field, handle.type, handle.value)] = None
    return list(found)


def extract_row_handles(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[tuple[str, str, str]]]:
    """External id -> (field, type, value) of the handles in each row's TEXT_FIELDS.

    Pure CPU work (about 2 ms a listing): call it before the write transaction takes its locks.
    A row whose extraction fails is logged and left without handles, never lost.
    """
    found: dict[str, list[tuple[str, str, str]]] = {}
    for row in rows:
        external_id = row.get("listing_id") or row.get("external_id")
        try:
            sightings = handles_in_fields({name: row.get(name) for name in TEXT_FIELDS})
        except Exception:  # a bug in extraction must not lose the listings of the batch
            log.exception("handle extraction failed for listing %r", external_id)
            continue
        if sightings and isinstance(external_id, str):
            found[external_id] = sightings
    return found
