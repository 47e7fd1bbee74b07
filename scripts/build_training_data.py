"""Build wildwatch's labelled training data: data/labelled/listings.csv.

Why synthetic: the project has no network and no scraped marketplace, so the
classifier's first training set is composed from the documented vocabulary in
shared/docs/domain-notes.md (code words §3, hard negatives §4) plus ordinary
listings. The model will later be judged on listings written by other people,
so the generator works hard to leave no template artefacts behind:

* every class draws on the SAME seller-talk pools (shipping, contact, price,
  provenance, stories), so 包邮 / 私聊 / "DM me" / 老货 never give a label away;
* titles and descriptions come from many builders (bare title, tags, emoji,
  bullet sheets, Q&A, long rambles, empty descriptions);
* noise is applied to every class: typos, full-width digits, shouting,
  repeated punctuation, separators inside words (positives: 象-牙, i.v.o.r.y;
  negatives: 全 新, w e c h a t);
* about 15% of Chinese rows are converted to traditional characters with
  OpenCC (Taiwan or Hong Kong variants), with matching local seller talk.

Rerunning with the same seed and row count gives a byte-identical file; the
test suite checks this. Usage::

    python scripts/build_training_data.py                 # listings.csv + card table
    python scripts/build_training_data.py --out /tmp/x.csv --no-card
"""
from __future__ import annotations

import argparse
import csv
import io
import random
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import opencc
from pypinyin import lazy_pinyin

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "data" / "labelled" / "listings.csv"
DEFAULT_CARD = ROOT / "data" / "labelled" / "README.md"
SEED = 20261125
DEFAULT_ROWS = 4200
VERSION = "synthetic:v2"
COLUMNS = ("id", "title", "description", "price", "currency", "label", "group",
           "category", "lang", "source")
# Share of rows per class; the test checks bands of +-5 points around these.
CLASS_SHARES = {"positive": 0.40, "hard_negative": 0.30, "ordinary": 0.30}
TRADITIONAL_SHARE = 0.15   # of Chinese rows (zh + zh-Hant)
CARD_BEGIN = "<!-- BEGIN GENERATED BALANCE TABLE -->"
CARD_END = "<!-- END GENERATED BALANCE TABLE -->"


@dataclass(frozen=True)
class Pool:
    """One coherent kind of listing: what is sold, how it is described, its price.

    ``zh``/``en`` hold product names for titles; ``zh_detail``/``en_detail``
    hold sentences only this kind of item carries. ``kind`` picks which shared
    seller talk fits (a parrot chick gets 包活 talk whether legal or not; a
    carving gets provenance talk whether ivory or jade). Prices are CNY and
    converted per row. Text is simplified Chinese; traditional rows come from
    OpenCC conversion so both scripts describe the same goods.
    """

    name: str
    label: int
    category: str
    group: str
    kind: str
    zh: tuple[str, ...]
    en: tuple[str, ...]
    zh_detail: tuple[str, ...]
    en_detail: tuple[str, ...]
    price: tuple[int, int]
    weight: float
    emoji: tuple[str, ...]


KINDS = ("goods", "collectible", "live", "consumable", "info")


def _split(s: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in s.split("|") if x.strip())


def S(slug: str, kind: str, zh: str, en: str, zh_detail: str, en_detail: str,
      price: tuple[int, int]) -> tuple[str, str, str, str, str, str, tuple[int, int]]:
    """One sub-product of a family; '|' separates alternatives (keeps tables short)."""
    if kind not in KINDS:
        raise ValueError(f"sub-pool {slug!r}: unknown kind {kind!r}; expected one of {KINDS}")
    return (slug, kind, zh, en, zh_detail, en_detail, price)


def F(name: str, label: int, category: str, group: str, weight: float, emoji: str,
      *subs: tuple[str, str, str, str, str, str, tuple[int, int]]) -> tuple[Pool, ...]:
    """A family of coherent sub-pools sharing a label, group and total weight."""
    return tuple(
        Pool(f"{name}.{slug}", label, category, group, kind, _split(zh), _split(en),
             _split(zd), _split(ed), price, weight / len(subs), tuple(emoji.split()))
        for slug, kind, zh, en, zd, ed, price in subs)


def flatten(*families: tuple[Pool, ...]) -> tuple[Pool, ...]:
    return tuple(p for fam in families for p in fam)


# --------------------------------------------------------------------------
# Positives (label 1). Names from domain-notes §3.1/§3.2; details are how such
# sellers describe the goods (material tells, provenance claims, evasion).
# --------------------------------------------------------------------------
POSITIVE_POOLS: tuple[Pool, ...] = flatten(
    F("ivory.plain", 1, "plain", "ivory", 3.4, "🐘 📿 ⚪",
      S("jewellery", "collectible",
        "象牙手镯|象牙手串|象牙吊坠|象牙佛珠108颗|象牙平安扣|象牙戒指|非洲象牙手镯|象牙 隔珠 手链|象牙 圆珠 {mm}mm",
        "ivory bangle|ivory bead necklace|ivory pendant|elephant ivory bracelet|ivory prayer beads|ivory ring",
        "纹理清晰可见人字纹|油性十足 包浆自然|手感温润 压手|老料老工 不是骨头|灯下看有细密的网格纹|内径{mm}mm 重{g}克|保真 假一赔十|不是树脂 可以火烧测试|非洲料 密度高|戴了{n}年 越戴越润",
        "Schreger lines clearly visible under a loupe|heavy for its size, cool to the touch|genuine, not resin or bone|passes the hot needle test|{mm}mm inner diameter, {g}g|real elephant ivory, lovely patina|no mould seams, real grain|can send close ups of the cross-hatching",
        (3000, 40000)),
      S("carving", "collectible",
        "象牙雕件|象牙观音|象牙 山水 雕刻|象牙印章|象牙 笔筒|象牙 摆件 老雕工|象牙 鼻烟壶|象牙 弥勒|象牙 寿星 摆件|象牙 花篮 镂空",
        "carved ivory tusk|antique ivory netsuke|elephant ivory figurine|old ivory carving|Ivory Guanyin statue|ivory snuff bottle|carved elephant tusk|ivory chess set",
        "老雕工 刀法利落|高{cm}cm 重{g}克|底部可见人字纹|老料新工 雕工一流|上世纪{yr}年代的东西|镂空工艺 很费料|私人收藏多年|不是骨雕 懂的人一看就知道",
        "hand carved, {cm}cm tall|cross-hatch visible on the base|from a {yr}s collection|fine detail, not a cast|heavy, dense, real tusk",
        (5000, 120000)),
      S("raw", "collectible",
        "整根象牙|象牙原料|象牙 原牙 切片|象牙 边角料|象牙 料 {g}克|象牙 牙尖|非洲 整牙",
        "raw ivory piece|whole elephant tusk|ivory offcuts|ivory blank|tusk tip",
        "原牙切片 可定制|刚出的整料 数量有限|按克卖 {g}克起|牙皮完整|料子干净无裂|可以切片加工",
        "sold by weight, {g}g|bark on, no cracks|can cut to order|whole tusk, {cm}cm",
        (8000, 300000)),
      S("small_items", "collectible",
        "老象牙筷子|象牙烟嘴|象牙梳子|象牙麻将|象牙 牙签筒|象牙 扇骨|象牙 琴键",
        "ivory chopsticks|ivory cigarette holder|ivory mahjong tiles|ivory comb|ivory fan sticks|ivory piano keys (elephant)",
        "一套{n}只|老物件 有年份|老人用了几十年|包浆厚 有开片",
        "set of {n}|old family piece, real ivory|age cracks, genuine",
        (1500, 30000))),
    F("ivory.coded", 1, "coded", "ivory", 2.8, "🐘 ⚪ 📿 🤫",
      S("cn_codes", "collectible",
        "白塑料手镯|老象料手串|非洲料挂件|黄料雕件|白料筷子|果冻料手镯|老白料 牌子|大白料 整料|象料平安扣|白货 老料手串|🐘📿 老料手串|白塑料 原料 切片|大象料 挂件|老象 料 佛珠|🐘 手镯 老料",
        "white plastic bangle (you know)|yellow material carving|African material bead bracelet|jelly material beads|elephant material pendant",
        "明白人来 不懂勿扰|非一般骨头 看纹路就知道|老料 包老|量少 先到先得|平台不能直接写 你懂的|有人字纹 自己看图|密度很高 比骨头重很多|只发熟人 走私人渠道|看图说话 不解释|发货隐蔽 包装严实|图片不能放全 私聊看实物|白的 不是塑料 行家来",
        "serious collectors know what this is|can't say more on here, message me|the grain tells the story",
        (3000, 40000)),
      S("bone_disguise", "collectible",
        "老骨雕 人字纹|牛骨 手镯 很重|骨质 老雕件 压手",
        "cow bone bangle, very old and heavy|bovine bone carving with cross-hatch grain|antique carved bone with Schreger lines|ox bone figurine, pre-ban|faux ivory carving (it isn't)|old bone netsuke, pre-1947|carved bone tusk, 30cm|bone chess set, very dense",
        "说是骨头 其实懂的都懂|有人字纹 骨头哪有这个|比牛骨重得多|老的 禁令前的",
        "heavier than any cow bone you have held|listed as bone for obvious reasons|pre-ban, inherited, no paperwork|cross-hatch pattern visible on the base|not plastic, not resin, not bone|ask for the UV photo",
        (1500, 30000)),
      S("umbrella", "collectible",
        "一红二黑三白 老货|三白 老料|一红二黑三白 都有|白货 红货 黑货 打包|四爪五骨六牙 收藏|黑白红 三样 现货",
        "white, black and red pieces available|got the three colours, white black red|the white and the black, old stock",
        "懂行的来 三样都有|红黑白 都是老的|只对懂的人开放|实物私发",
        "only for people who know the codes|pm for photos of the white",
        (5000, 80000))),
    F("rhino_horn.plain", 1, "plain", "rhino_horn", 1.8, "🦏 ⚫",
      S("carvings", "collectible",
        "犀牛角杯|犀角杯|犀牛角雕件|犀牛角手串|犀角碗|老犀角 摆件|犀角 如意|犀角 扳指",
        "rhino horn cup|rhino horn libation cup|carved rhino horn|rhinoceros horn bead bracelet|antique rhino horn bowl|rhino horn thumb ring",
        "纯正犀角 不是水牛角|有明显的竹丝纹|底部可见鱼子纹|重{g}克 可称重|可视频看货|不是牦牛角 放心|老犀角 明清的|包浆自然 透光红润",
        "hairline texture visible at the base|not buffalo horn, tested|weighs {g}g|video call available to verify|antique, Qing style",
        (20000, 300000)),
      S("medicine", "consumable",
        "犀牛角粉|犀角片|犀角 镑片|犀牛角 退烧|整只犀牛角|犀角 粉 {g}克",
        "rhino horn powder|rhino horn shavings|whole rhino horn|rhino horn for fever",
        "退烧解毒 老人常用|刮粉冲服 效果好|镑片 一克一克卖|整角 {g}克|切片薄 好煎",
        "good for fever, traditional use|grated into powder on request|sold by the gram|whole horn {g}g",
        (10000, 250000))),
    F("rhino_horn.coded", 1, "coded", "rhino_horn", 1.4, "🦄 🦏 ⚫",
      S("cn_codes", "collectible",
        "广角 片|天马角 摆件|柱角 老料|兕角杯|火犀角 片|水犀角 老货|文犀 雕件|香犀 手串|黑货 老料 杯子|广角粉|黑料 镑片|大黑 杯",
        "black material cup|the black one, old cup",
        "懂行的看 都是广货|老料 有竹丝纹|镑片现货 可刮粉|不是水牛角 一眼真|非洲来的 现货不多|价格私聊 平台不便多说|黑的 懂的人自然懂",
        "you know what the black one is|price in private",
        (10000, 200000)),
      S("unicorn", "consumable",
        "独角兽 切片|独角 片 退烧",
        "unicorn disks|unicorn horn slices|horn disks (not buffalo)|big black horn, old stock|African horn slices, genuine",
        "独角兽的角 懂的联系|切片 现货 {g}克",
        "you know what kind of unicorn|slices fresh from Africa|not buffalo, not yak, the real one|sold per gram",
        (10000, 150000))),
    F("pangolin.plain", 1, "plain", "pangolin", 1.0, "🦔 🌿",
      S("scales", "consumable",
        "穿山甲片|穿山甲鳞片|穿山甲粉|穿山甲片 下奶|野生 穿山甲片 {g}克",
        "pangolin scales|dried pangolin scales|pangolin scale powder",
        "下奶通乳 老中医推荐|野生的 不是养殖|一斤起卖 {g}克一包|产后通乳效果好|可以打粉|东南亚过来的货",
        "traditional remedy for lactation|sold by the kilo|can be ground to powder|from Southeast Asia",
        (600, 8000)),
      S("animal", "live",
        "穿山甲 整只|野生穿山甲|穿山甲 活体|穿山甲 炖汤 整只|穿山甲肉",
        "whole pangolin|live pangolin|pangolin meat",
        "现杀现发|活的 {g}斤左右|野生 山里来的|可以视频|冷冻 整只",
        "live, about {n}kg|frozen whole|wild, not farmed",
        (1500, 10000))),
    F("pangolin.coded", 1, "coded", "pangolin", 1.0, "🌿 🍵",
      S("tcm_names", "consumable",
        "炮山甲|山甲片|甲片 通乳|炮甲珠|醋山甲|山甲珠|炙山甲|鲮鲤甲|川山甲|麒麟片|铁甲片|铜甲片 精选|炮甲片 正品|麟片 下奶",
        "shan jia pian (TCM scales)|pao shan jia, processed scales|armadillo scales (not armadillo)|scaly anteater scales",
        "下奶神器 懂的都懂|药材级 大片|产妇通乳必备|铁甲片 硬度高|真货 不是猪蹄甲冒充|药房买不到的好货|称重{g}克|正宗山甲 不掺假",
        "the real scales, not pig hoof fakes|for nursing mothers|hard to get in pharmacies",
        (600, 6000))),
    F("tiger.plain", 1, "plain", "tiger", 1.5, "🐯 🐅",
      S("wine_bone", "consumable",
        "虎骨酒|虎骨|虎骨胶|虎鞭|虎骨粉|老虎骨 泡酒",
        "tiger bone wine|tiger bone glue|tiger penis dried|tiger bone powder",
        "泡了{n}年的老酒|强筋壮骨 风湿骨痛|不是牛骨冒充|东北老人家里的|骨头 {g}克|一坛{n}斤",
        "aged {n} years|strengthens bones, old recipe|real tiger bone, not cow",
        (3000, 80000)),
      S("teeth_claws", "collectible",
        "虎牙吊坠|虎爪挂件|虎牙 原牙|虎须|老虎牙 项链|虎爪 包银",
        "tiger tooth pendant|tiger claw necklace|real tiger canine|tiger claw silver mounted",
        "虎牙是真的 有牙髓|原牙 可鉴定|长{cm}cm 品相好|包银 老工艺",
        "real canine, not resin|{cm}cm, nice colour|genuine, not a cast",
        (2000, 30000)),
      S("skin", "collectible",
        "虎皮 整张|老虎皮毯|虎皮 挂毯|东北虎皮",
        "tiger skin rug|tiger pelt|full tiger hide",
        "整张皮 毛色好|带头带爪|真皮 不是印花|老皮 保存很好",
        "whole pelt, good fur|head and claws intact|real hide, not printed",
        (30000, 200000))),
    F("tiger.coded", 1, "coded", "tiger", 1.1, "🐯 🍶 🧊",
      S("wine_material", "consumable",
        "泡酒料 整只|大猫 泡酒料|冻货 泡酒|泡酒料 小只的|大猫骨|黄老大的骨头|王字头 泡酒料|山君 骨",
        "big cat bones for wine|wine material, whole cub frozen|striped cat parts|bones from the big stripey one",
        "冻品 小只的 懂得来|泡酒料 保真|山里来的 量少|骨头完整 可泡酒|私聊看视频|冷链发货 不走平台|王字 看图",
        "frozen, small, you know what|for soaking in liquor|video on request, no questions",
        (5000, 100000))),
    F("big_cats.plain", 1, "plain", "big_cats", 1.2, "🐆 🐾",
      S("skins", "collectible",
        "豹皮|金钱豹皮|雪豹皮|云豹标本|豹猫皮|雪豹 标本",
        "leopard skin|leopard pelt|snow leopard fur|clouded leopard mount|ocelot skin",
        "真皮 花纹自然|毛色鲜亮 无脱毛|整张 带头带爪|标本 老货|野生的 不是农场",
        "genuine hide, natural rosettes|head and claws intact|mounted specimen, old",
        (5000, 120000)),
      S("parts", "collectible",
        "豹子牙|豹骨|狮子牙|美洲豹爪|豹牙 吊坠|狮爪 包银",
        "leopard tooth|jaguar claw|lion tooth necklace|lion bone|leopard canine pendant",
        "牙齿真品 有磨损|原牙 有牙根|骨头 泡酒用",
        "real tooth, natural wear|root intact",
        (1500, 30000)),
      S("live_cubs", "live",
        "猎豹幼崽|豹子 幼崽|狞猫 幼崽|薮猫 宝宝|兔狲 幼崽",
        "cheetah cub|leopard cub|caracal kitten wild|serval kitten no papers",
        "幼崽 {age}周 会吃肉|很亲人|没有证 所以便宜|可以视频看",
        "cub, {age} weeks, eating meat|no papers, cheap|video call ok",
        (10000, 150000))),
    F("big_cats.coded", 1, "coded", "big_cats", 0.5, "🐆 🐾",
      S("codes", "collectible",
        "花皮 整张|金钱皮|花猫皮 大的|大花猫 崽|斑点大猫 幼崽",
        "spotted cat hide|big spotty kitty cub|rosette skin, real|spotted rug, not printed",
        "不是人造的 看毛根|大猫崽子 懂行来|带头皮 老货|真货 懂行的看",
        "real, check the hair roots|not printed, not faux",
        (3000, 80000))),
    F("hawksbill.plain", 1, "plain", "hawksbill", 1.0, "🐢 🟤",
      S("items", "collectible",
        "玳瑁手镯|玳瑁梳子|玳瑁眼镜框 真壳|玳瑁簪子|玳瑁扇子|玳瑁 烟嘴|玳瑁 发簪",
        "real tortoiseshell bangle, hawksbill|hawksbill shell comb|genuine tortoiseshell hair pin|real tortoiseshell frames, not acetate",
        "真玳瑁 不是板材|透光看有血丝纹|老玳瑁 色泽通透|热水泡会变软 真品|不是醋酸纤维|重{g}克",
        "genuine shell, not acetate|translucent with natural mottling|old stock, real hawksbill",
        (1500, 30000)),
      S("raw_shell", "collectible",
        "玳瑁原壳|整只玳瑁|玳瑁片|玳瑁标本|玳瑁 背甲",
        "hawksbill turtle shell|raw hawksbill scutes|whole hawksbill specimen",
        "原壳 完整|{n}片一套|标本 保存完好|原壳手工打磨",
        "hand polished from raw scutes|complete carapace, {cm}cm",
        (3000, 40000))),
    F("hawksbill.coded", 1, "coded", "hawksbill", 0.6, "🐢 🌊",
      S("codes", "collectible",
        "十三鳞 手镯|海金 原片|文甲 梳子|长寿龟片|瑁片 老料|十三鳞 原壳",
        "13-scale shell, raw|sea gold plates, genuine shell",
        "懂的来 十三鳞原片|海里的 老料|真壳 不是塑料|原片 {n}片一套",
        "raw plates, you know which turtle|not plastic",
        (1500, 20000))),
    F("hornbill.plain", 1, "plain", "hornbill", 1.0, "🐦 🔴",
      S("casque", "collectible",
        "鹤顶红挂件|鹤顶红 原头|盔犀鸟头骨|鹤顶红手串|鹤顶红 雕件|鹤顶 牌子|鹤顶红 戒指|盔犀鸟 头胄|鹤顶红 鼻烟壶",
        "helmeted hornbill casque|hornbill ivory carving|carved hornbill casque pendant|hornbill skull|hornbill beak carving",
        "红皮完整 血色好|头胄实心 手感细腻|老料新雕|原头 带红皮|印尼来的 数量少|纹理像象牙 但带红边",
        "red rind intact|solid casque, fine grain|from Indonesia, rare|carved casque with red edge",
        (3000, 60000))),
    F("hornbill.coded", 1, "coded", "hornbill", 0.7, "🔴 🐦",
      S("codes", "collectible",
        "红货 老料|红料 牌子|鹤顶 原料|一红 现货|红象牙 挂件|金玉 挂件 老料",
        "red ivory pendant|golden jade carving|hornbill ivory beads|red ivory, old",
        "红皮明显 识货的来|金玉 老料|比象牙还稀有|私聊看红皮",
        "golden jade, real one|rarer than ivory, you know",
        (3000, 50000))),
    F("bear_bile.plain", 1, "plain", "bear_bile", 1.0, "🐻 💊",
      S("bile", "consumable",
        "熊胆粉|熊胆|野生熊胆|熊胆 整个|黑熊胆|熊胆汁|熊胆 干品|熊胆粉 散装",
        "bear bile powder|wild bear gallbladder|bear gall bladder dried|bear bile vials",
        "野生的 山里猎户的|整胆 干透了|清热明目|一克一克卖|不是养殖场的 效果好|老猎人留的|散装 没有包装 便宜",
        "wild, not farmed|whole gallbladder, dried|sold by the gram|from a hunter up north",
        (500, 20000)),
      S("paws", "consumable",
        "熊掌|熊掌 干货|黑熊掌 冻品|熊掌 一对",
        "bear paws|dried bear paw",
        "野生 一对|冻品 冷链|山里打的",
        "wild, pair|frozen",
        (3000, 30000))),
    F("bear_bile.coded", 1, "coded", "bear_bile", 0.5, "🐻",
      S("codes", "consumable",
        "铜胆|金胆 好货|菜花胆|墨胆|黑大个 的胆|黑瞎子 胆",
        "the big black one's gall|gold bile, wild",
        "金胆 野生的 懂的私|铜胆 颜色正|野的 不是取胆的|量少 明白的来",
        "wild, not from a farm|gold grade, very rare",
        (800, 20000))),
    F("saiga.plain", 1, "plain", "saiga", 0.9, "🦌",
      S("horn", "consumable",
        "羚羊角|羚羊角粉|高鼻羚羊角|羚羊角 整支|羚羊角丝|羚羊角 片",
        "saiga horn|saiga antelope horn|saiga horn shavings|antelope horn whole",
        "透光看有血丝 真品|整支 {cm}cm|镑丝 清热|高鼻羚羊 不是黄羊角|退烧 小孩用",
        "translucent, real saiga not goat|shaved for fever|whole horn {cm}cm",
        (1000, 30000)),
      S("chiru", "collectible",
        "藏羚羊角|藏羚羊绒 披肩|沙图什 披肩",
        "Tibetan antelope shahtoosh shawl|chiru horn|shahtoosh ring shawl",
        "沙图什 真货|能穿过戒指|藏羚羊 老货",
        "real shahtoosh, passes through a ring|old stock",
        (5000, 60000))),
    F("saiga.coded", 1, "coded", "saiga", 0.4, "🦌",
      S("codes", "consumable",
        "羚角|羚丝|白羚角 老货|指环披肩",
        "ring shawl (the real one)|white antelope horn old",
        "懂的来 不是黄羊|老的 透光|真羚角 不掺山羊角",
        "not goat, the real thing",
        (1000, 20000))),
    F("totoaba.plain", 1, "plain", "totoaba", 0.8, "🐟",
      S("maw", "consumable",
        "金钱鳘花胶|金钱鳘鱼胶|黄唇鱼胶|石首鱼胶 墨西哥|野生金钱鳘|加利福尼亚湾石首鱼 鱼肚",
        "totoaba maw|totoaba swim bladder|Chinese bahaba maw|wild totoaba fish maw",
        "墨西哥过来的 野生|{g}克一只 公胶|收藏级 越陈越值钱|黄唇鱼 野生老胶|投资收藏 升值快",
        "wild caught, Gulf of California|{g}g, male bladder|investment grade, ages well",
        (10000, 200000))),
    F("totoaba.coded", 1, "coded", "totoaba", 0.4, "🐟",
      S("codes", "consumable",
        "金钱鳘|金钱鮸|老鳘胶|金钱鳘 公肚|墨西哥 大胶",
        "golden money fish maw|Mexican big maw",
        "懂的直接拍 墨西哥的|老胶 {n}年|公肚 厚身",
        "you know which fish|aged {n} years",
        (10000, 150000))),
    F("shark_fin.plain", 1, "plain", "shark_fin", 0.9, "🦈",
      S("fins", "consumable",
        "鲸鲨鱼翅|鲸鲨翅|双髻鲨鱼翅|姥鲨翅|天九翅|牙拣翅|大白鲨翅|远洋白鳍鲨翅|鲸鲨 翅 整片",
        "whale shark fin|hammerhead shark fin|basking shark fin|oceanic whitetip fin|guitarfish fin|great white shark fin",
        "整只 {cm}cm|大排翅 金山勾|野生 一次性出|酒楼级 干货|鲸鲨 整片 稀少|纯干 无添加",
        "whole fin {cm}cm|dried, restaurant grade|rare, one lot only",
        (3000, 80000))),
    F("sea_turtle.plain", 1, "plain", "sea_turtle", 1.0, "🐢 🌊",
      S("specimens", "collectible",
        "海龟标本|海龟壳|绿海龟标本|棱皮龟 标本|海龟 整只 标本",
        "sea turtle shell|green turtle taxidermy|stuffed sea turtle|sea turtle carapace",
        "标本完整 做工好|壳长{cm}cm|老标本 收藏|渔民捞的",
        "shell {cm}cm long|from fishermen|complete mount, old",
        (2000, 30000)),
      S("eggs_live", "live",
        "海龟蛋|海龟 活体|小海龟 苗|绿海龟 幼体",
        "sea turtle eggs|baby sea turtles live|green turtle hatchlings",
        "活的 {age}周大|海边挖的 新鲜|{n}个起卖",
        "fresh from the beach|sold by the dozen",
        (200, 10000))),
    F("primates.plain", 1, "plain", "primates", 0.9, "🐒 🙈",
      S("pets", "live",
        "懒猴|蜂猴 宠物|懒猴 幼崽|金丝猴|猕猴 宝宝|长臂猿 幼崽|狨猴|卷尾猴|红面猴 幼崽",
        "slow loris|pet slow loris baby|baby macaque|gibbon baby|marmoset monkey|capuchin baby",
        "很乖 会抱人|{age}周大 已断奶|会吃水果|送笼子 送奶瓶|可以视频看|大眼睛 超萌",
        "very tame, loves cuddles|{age} weeks old|eats fruit|comes with cage|video call ok",
        (2000, 40000))),
    F("primates.coded", 1, "coded", "primates", 0.4, "🐒 🐔",
      S("codes", "live",
        "跑山鸡|长尾 幼崽|大眼小猴|小毛孩 活的|夜猴 小只",
        "big eyed baby (the sleepy one)|little furry one, live",
        "会抱人 行家私聊|长尾 山里的|不是鸡 懂的来|活的 私聊看视频",
        "not a chicken lol|live, message for video",
        (2000, 30000))),
    F("parrots.plain", 1, "plain", "parrots", 1.0, "🦜",
      S("chicks", "live",
        "非洲灰鹦鹉 雏鸟|非洲灰 幼鸟|金刚鹦鹉 幼鸟|大葵花鹦鹉|亚马逊鹦鹉 野生|红尾灰 手养|折衷鹦鹉|戈芬氏凤头鹦鹉",
        "African grey parrot chicks|baby African grey|macaw chick|sulphur-crested cockatoo|wild caught amazon parrot|Timneh grey chick",
        "手养 会说话|{age}周大 吃奶|野生抓的 性格野|没有证 便宜出|会学人说话|包活",
        "hand fed, talking|{age} weeks, still on formula|no papers, cheaper|wild caught, needs taming",
        (3000, 30000))),
    F("tortoises.plain", 1, "plain", "tortoises", 1.0, "🐢",
      S("species", "live",
        "辐射陆龟|印度星龟|安哥洛卡陆龟|缅甸星龟|亚洲巨龟|凹甲陆龟|马达加斯加蛛网龟|鹰嘴龟|金钱龟 野生",
        "radiated tortoise|Indian star tortoise|ploughshare tortoise|Burmese star tortoise|spider tortoise|big headed turtle",
        "苗子 {cm}cm|背甲漂亮 放射纹|没有证 所以便宜|野生的 进口|包活 顺丰|一对出",
        "hatchling {cm}cm|no paperwork, cheap|wild imported|pair available",
        (2000, 60000))),
    F("tortoises.coded", 1, "coded", "tortoises", 0.5, "🐢 ⭐",
      S("codes", "live",
        "辐射 苗子|星龟 宝宝|金头 小只|放射 一对|犁头 苗",
        "rads babies|stars for sale|plough babies",
        "懂货的来 没证|苗子状态好|野的 颜色好",
        "no docs, you know|wild coloration",
        (2000, 40000))),
    F("reptiles.plain", 1, "plain", "reptiles", 1.0, "🦎 🐍 🐊",
      S("live", "live",
        "鳄蜥|巨蜥 幼体|网纹蟒 野生|马来鳄 幼体|变色龙 野生|野生眼镜蛇|扬子鳄 苗",
        "Chinese crocodile lizard|water monitor baby|wild caught reticulated python|wild caught chameleon|king cobra|baby crocodile",
        "野生的 刚到|{cm}cm 一对|没有证 低价|包活发货",
        "wild caught, fresh import|{cm}cm|no permits, cheap",
        (500, 30000)),
      S("dried", "consumable",
        "蛤蚧 干货|野生蛤蚧|蛤蚧 一对 泡酒|鳄鱼皮 整张|蛇胆 野生",
        "dried tokay gecko|crocodile skin whole|dried gecko pair",
        "泡酒 补肾|整张 带尾巴|野生 一对 {cm}cm",
        "whole skin, tail on|pair, dried",
        (100, 20000))),
    F("songbirds.plain", 1, "plain", "songbirds", 1.0, "🐦 🎶",
      S("wild_caught", "live",
        "野生画眉|画眉 生鸟|鹩哥|红嘴相思鸟 野生|绣眼 野生|百灵 野生|靛颏|野生 蓝喉歌鸲|黄雀 野生",
        "wild caught hwamei|hill myna|wild red-billed leiothrix|wild white-eye|Mongolian lark wild|bluethroat wild caught|straw-headed bulbul",
        "山里刚打的 生鸟|会叫 口好|野生的 性子烈|{n}只一起出|刚上笼 要驯|野外抓的",
        "freshly caught in the hills|good singer|wild, needs settling|{n} birds together",
        (200, 5000))),
    F("songbirds.coded", 1, "coded", "songbirds", 0.5, "🐦",
      S("codes", "live",
        "生口 画眉|毛鸟 现货|山货 小鸟|生鸟 一批|野口|山口 鹩哥",
        "fresh from the hills, songbirds|new catch, forest birds",
        "生口 刚上笼|山货 没驯过|一批{n}只",
        "fresh catch, not bred",
        (200, 3000))),
    F("coral.plain", 1, "plain", "coral", 1.0, "🪸 🔴",
      S("jewellery", "collectible",
        "红珊瑚手串|阿卡红珊瑚|MOMO珊瑚|沙丁珊瑚|深海红珊瑚 吊坠|天然红珊瑚 戒面|宝石级 阿卡|阿卡 牛血红 珠子",
        "aka coral beads|momo coral necklace|natural red precious coral|sardinian coral beads|deep sea red coral pendant",
        "天然无优化 可检测|有白芯 天然的|牛血红|{mm}mm 一颗|日本阿卡 深海料",
        "natural, untreated, white core|ox blood red|{mm}mm beads",
        (2000, 60000)),
      S("branch", "collectible",
        "红珊瑚原枝|珊瑚原枝 整株|红珊瑚 原料|深海 珊瑚树",
        "red coral branch|whole precious coral branch|raw red coral",
        "整枝原枝 {g}克|海里打捞的|原枝 没加工",
        "whole branch {g}g|raw, unworked",
        (5000, 80000))),
    F("coral.coded", 1, "coded", "coral", 0.4, "🔴",
      S("codes", "collectible",
        "阿卡 老料|深海 红 老料|牛血 老珠子",
        "aka, old stock|deep-sea red, old|ox-blood beads, the real sea stuff",
        "海里的 明白人来|不是染色的|老阿卡 {mm}mm",
        "not dyed, the real sea one",
        (2000, 40000))),
    F("musk.plain", 1, "plain", "musk", 0.9, "🦌 ✨",
      S("pods", "consumable",
        "麝香|毛壳麝香|麝香仁|当门子|野生麝香 整个|麝香 香囊 真品|林麝香 整个",
        "musk pod|natural deer musk|wild musk grain|musk deer pod, whole",
        "野生 整个 {g}克|开窍醒神|真货 不是人工的|猎户手里来的|带毛壳 原装",
        "wild, whole pod {g}g|not synthetic|from a hunter",
        (2000, 50000))),
    F("musk.coded", 1, "coded", "musk", 0.4, "🦌",
      S("codes", "consumable",
        "当门子 正品|麝仁 野生|寸香|元寸香 老货",
        "deer pod, wild|natural pod grains",
        "行家来 野生的|不是人工合成|一颗一颗的",
        "wild, not synthetic",
        (2000, 40000))),
    F("seahorse.plain", 1, "plain", "seahorse", 0.7, "🐴 🌊",
      S("dried", "consumable",
        "野生海马干|海马 泡酒|大海马 干货|野生刺海马|海马 一对",
        "dried wild seahorses|seahorse for wine|large dried seahorses",
        "野生 不是养殖|{cm}cm 大只|泡酒 补肾|{n}对一斤",
        "wild caught, not farmed|{cm}cm each",
        (300, 5000))),
)

# --------------------------------------------------------------------------
# Hard negatives (label 0): legal or irrelevant items that share words or
# imagery with the positives (domain-notes §4 plus the brief's list).
# --------------------------------------------------------------------------
HARD_NEGATIVE_POOLS: tuple[Pool, ...] = flatten(
    F("hn.ivory_colour", 0, "hard_negative", "ivory", 2.0, "🤍 👗",
      S("dress", "goods",
        "象牙白 婚纱|象牙白 连衣裙|象牙白 针织开衫|象牙色 伴娘服|象牙白 衬衫|象牙白 羊绒围巾",
        "ivory wedding dress|ivory lace gown|ivory knit cowl|ivory satin bridesmaid dress|ivory cashmere scarf|ivory cable knit jumper",
        "颜色是象牙白 偏暖|尺码S-XL|面料舒适 不起球|婚纱只穿过一次|显白 百搭|拖尾 蕾丝",
        "colour is ivory, a warm off-white|size {n}|worn once for the wedding|lace overlay, train|colour may vary with screen",
        (50, 3000)),
      S("home", "goods",
        "象牙白 乳胶漆|象牙白 打印纸|象牙白 瓷砖|象牙白 沙发|象牙色 床品四件套|象牙白 窗帘",
        "ivory paint 5L|ivory cardstock 100 sheets|ivory leather sofa|ivory bedding set|ivory curtains",
        "一桶{n}升|哑光 环保|{n}张一包|真皮 沙发 三人位|纯棉 四件套",
        "matte finish|{n} sheets|three seater, ivory leather|cotton, king size",
        (20, 6000))),
    F("hn.ivory_coast", 0, "hard_negative", "ivory", 0.6, "☕",
      S("coffee", "consumable",
        "科特迪瓦 咖啡豆|象牙海岸 可可粉|科特迪瓦 可可豆|象牙海岸 咖啡 挂耳",
        "Ivory Coast coffee beans|Ivory Coast cocoa|Côte d'Ivoire robusta|Ivory Coast cacao nibs",
        "产地科特迪瓦(象牙海岸)|中度烘焙|{g}克一包|可可含量高",
        "single origin, Ivory Coast|medium roast|{g}g bag",
        (40, 300))),
    F("hn.mammoth", 0, "hard_negative", "ivory", 1.3, "🦣",
      S("certified", "collectible",
        "猛犸象牙 手串 带证书|猛犸牙 雕件 西伯利亚|猛犸象牙 原料 有报关单|猛犸象牙 吊坠 可查证|猛犸象牙 皮色 手镯|猛犸 牙 化石 雕件",
        "mammoth ivory pendant with certificate|fossil mammoth tusk carving, Siberia|mammoth ivory beads, documented|woolly mammoth ivory, legal",
        "懂的来 猛犸料 有证|西伯利亚出土 有进口报关单|附鉴定证书 可查|猛犸象牙 合法交易|有皮色 带沁|证书编号随货|猛犸象 已灭绝 化石料",
        "excavated in Siberia, legal fossil ivory|customs paperwork included|certificate of origin enclosed|extinct species, fossil material",
        (500, 20000))),
    F("hn.imitation_ivory", 0, "hard_negative", "ivory", 2.0, "🤍",
      S("resin", "goods",
        "仿象牙 树脂摆件|仿象牙 手镯|象牙白 树脂手串|仿象牙 麻将|仿象牙 印章",
        "faux ivory resin figurine|resin ivory-look bangle|faux ivory mahjong set",
        "树脂材质 不是真的|仿的 介意勿拍|环保材质|模具出的 便宜",
        "resin reproduction, not real ivory|cast resin, mould line visible",
        (20, 600)),
      S("celluloid_tagua", "collectible",
        "法国象牙 赛璐珞 梳子|象牙果 手串|塔古亚 象牙果 雕件|赛璐珞 梳妆套装",
        "French ivory celluloid dresser set|tagua nut beads|vegetable ivory buttons|corozo nut carving",
        "象牙果是植物 合法|赛璐珞 老的化妆套装|植物果实 雕的",
        "celluloid, smells of camphor with a hot pin|tagua is a palm nut, 100% plant|French ivory is an early plastic",
        (30, 1500)),
      S("bone_china_bone", "goods",
        "骨瓷 茶具|牛骨 书签|牛骨 梳子|骨瓷 咖啡杯",
        "bone china tea set|bone button blanks (ivory alternative)|cow bone comb, handmade|bone china mug",
        "骨瓷 英国制造|牛骨 手工 {n}元一个|便宜的牛骨 工艺品",
        "fine bone china, England|cattle bone, by-product of the meat trade|cheap craft blanks",
        (10, 800)),
      S("soap_keys", "goods",
        "Ivory 香皂|钢琴 琴键 贴片 亚克力",
        "Ivory soap bars|ivory keytops replacement acrylic|Ivory dish soap",
        "亚克力 琴键 {n}片",
        "pack of {n} bars|acrylic keytops, 52 set",
        (10, 400))),
    F("hn.ivory_misc", 0, "hard_negative", "ivory", 0.8, "🎹",
      S("misc", "collectible",
        "走出象牙塔 二手书|白色塑料板 {n}张|象牙瓷 德化 观音|Ebony and Ivory 黑胶|德化 象牙白 瓷 摆件",
        "Ebony and Ivory vinyl single|Blush Ivory Royal Worcester vase|ivory Bakelite telephone|ivory tower poster",
        "德化白瓷 象牙白釉|书有笔记|黑胶 品相好|白色塑料 PP板 可裁切",
        "Royal Worcester, blush ivory glaze|vintage Bakelite, works|record in VG condition",
        (20, 2000))),
    F("hn.buffalo_horn", 0, "hard_negative", "rhino_horn", 1.0, "🐃",
      S("horn", "goods",
        "水牛角梳|水牛角 刮痧板|牦牛角梳|牦牛角 手串|水牛角 筷子|牛角 印章|水牛角 丝 中药",
        "buffalo horn comb|yak horn bead bracelet|water buffalo horn spoon|ox horn scraping board",
        "天然水牛角 防静电|梳头舒服|牦牛角 藏区手工|刮痧用|水牛角 代 犀角 药用|药房 正规",
        "natural buffalo horn, anti static|handmade yak horn",
        (15, 300))),
    F("hn.rhino_items", 0, "hard_negative", "rhino_horn", 1.3, "🦏 📷",
      S("figures", "goods",
        "犀牛 摆件 铜|犀牛 邮票 一套|犀牛 毛绒玩具|犀牛 T恤|犀牛 乐高",
        "rhino figurine brass|DDR rhino stamp|rhino plush|rhino t-shirt|rhino LEGO set",
        "铜质 手工|邮票全新未使用|毛绒 孩子喜欢|纯棉",
        "solid brass, handmade|unused stamp|soft plush",
        (10, 800)),
      S("lens_software", "goods",
        "广角镜头 16-35|超广角 手机镜头|犀牛 3D 建模 教程|Rhino 7 授权",
        "wide angle lens 16-35mm|Rhino 3D course|Rhino truck bed liner",
        "镜头 成色9新|无霉无雾|Rhino 软件 教程 视频",
        "lens in good condition|no fungus or haze",
        (100, 6000)),
      S("brand_shoes", "goods",
        "犀牛 牌 运动鞋|犀牛 登山鞋|犀牛 工装靴",
        "Rhino work boots|rhino brand sneakers",
        "{n}码|只穿过一次",
        "size {n}|worn once",
        (60, 600))),
    F("hn.pangolin", 0, "hard_negative", "pangolin", 1.2, "🦔 💅",
      S("pangle_ads", "info",
        "穿山甲 广告 开户|穿山甲 SDK 变现|穿山甲 联盟 代理|穿山甲 广告位 优化",
        "Pangle ad network onboarding|Pangolin proxy license|Pangle SDK integration help",
        "穿山甲广告联盟 流量变现|接入文档齐全|头条系 广告平台|日活{n}万 起接",
        "ad monetisation for mobile games|SDK docs provided",
        (100, 3000)),
      S("toys_books", "goods",
        "穿山甲 毛绒玩具|穿山甲 绘本|穿山甲 贴纸|穿山甲 公仔",
        "pangolin plush toy|pangolin picture book|pangolin sticker pack|pangolin enamel pin",
        "毛绒 可水洗|科普绘本 保护野生动物|贴纸 {n}张|公仔 可爱",
        "plush, washable|children's book about protecting pangolins|{n} stickers",
        (10, 200)),
      S("nails", "goods",
        "美甲片 穿戴甲|甲片 美甲|穿戴甲片 {n}片",
        "press-on nails|nail tips 500pcs",
        "美甲片 {n}片装 可重复使用|穿戴甲 送胶",
        "press-on nails, {n} pieces|reusable",
        (10, 100))),
    F("hn.tiger", 0, "hard_negative", "tiger", 1.8, "🐯",
      S("balm_plaster", "consumable",
        "虎标万金油|虎标 活络油|麝香壮骨膏|虎标 清凉油 {n}盒|壮骨膏 老牌子",
        "Tiger Balm red|Tiger Balm white ointment|tiger balm patch",
        "草本配方|清凉油 {n}盒|壮骨膏 {n}贴|药店正品 有批号",
        "herbal ointment, no animal parts|{n} jars|herbal plaster",
        (5, 200)),
      S("print_toys", "goods",
        "老虎 毛绒玩具|虎头鞋 宝宝|虎纹 布料|老虎 T恤|虎年 公仔",
        "tiger print fabric|tiger plush|tiger stripe hoodie|tiger mascot costume",
        "宝宝周岁穿|面料有弹性|毛绒 可水洗|手工 虎头鞋",
        "stretch fabric|cute plush",
        (15, 300)),
      S("food_brands", "consumable",
        "虎皮青椒 调料|虎皮凤爪|虎皮 蛋糕|虎牌 保温杯",
        "Tiger beer crate|Tiger brand rice cooker|tiger prawns frozen",
        "现做 {g}克|保温保冷|虎皮凤爪 卤味",
        "24 bottles|1kg bag, frozen",
        (10, 600)),
      S("wine_herbs", "consumable",
        "泡酒料 人参 枸杞|泡酒 药材 玛卡|泡酒料 一包|人参 泡酒 整根",
        "herbal wine kit ginseng|goji wine infusion pack",
        "泡酒料 人参枸杞|配方 {n}味药材|一包泡{n}斤酒",
        "ginseng and goji, for {n}L",
        (20, 400))),
    F("hn.big_cats", 0, "hard_negative", "big_cats", 1.2, "🐆",
      S("prints", "goods",
        "豹纹 外套|豹纹 连衣裙|人造毛 皮草|豹纹 手机壳|豹纹 围巾",
        "leopard print coat|faux fur jacket|leopard print dress|leopard print phone case",
        "人造毛 不掉毛|均码 显瘦|仿皮草 环保",
        "faux fur, vegan|one size",
        (20, 800)),
      S("pets", "live",
        "孟加拉豹猫 幼猫 有血统|豹纹守宫 人工繁殖|狮子猫 幼猫",
        "Bengal kitten with pedigree|leopard gecko captive bred",
        "血统证书 疫苗已打|人工繁殖 {age}周|猫舍出 可上门看",
        "registered cattery, vaccinated|captive bred, {age} weeks",
        (500, 8000)),
      S("toys", "goods",
        "狮子 毛绒|豹子 摆件 树脂|雪豹 明信片",
        "lion plush|snow leopard postcard|cheetah figurine",
        "毛绒 可爱|树脂 摆件",
        "plush toy|resin figurine",
        (10, 200))),
    F("hn.hawksbill", 0, "hard_negative", "hawksbill", 1.2, "🐱 🕶",
      S("frames_clips", "goods",
        "玳瑁 眼镜框|玳瑁纹 发夹|玳瑁色 抓夹|玳瑁色 指甲油|玳瑁 板材 墨镜",
        "tortoiseshell glasses frames|tortoiseshell hair claw|tortoiseshell acetate sunglasses",
        "板材 醋酸纤维|玳瑁纹 复古|玳瑁色 显白",
        "acetate frames|retro tortoiseshell pattern",
        (15, 600)),
      S("cats", "live",
        "玳瑁猫 幼猫|玳瑁 母猫 送养|玳瑁 小猫",
        "tortoiseshell kitten|tortie cat rehoming",
        "母猫 {age}周 已驱虫|疫苗打了两针|亲人 会用猫砂",
        "tortie kitten, dewormed|litter trained",
        (0, 1500)),
      S("glaze_herb", "collectible",
        "吉州窑 玳瑁釉 盏|玳皮盏 建盏|海金沙 中药",
        "Jizhou tortoiseshell glaze tea bowl",
        "吉州窑 玳皮 建盏|海金沙 利尿 药房",
        "tortoiseshell glaze, Jizhou kiln",
        (50, 3000))),
    F("hn.hornbill", 0, "hard_negative", "hornbill", 1.0, "🐟 💄",
      S("fiction_colour", "goods",
        "鹤顶红 小说|鹤顶红 口红|情人鹤顶红 CD|鹤顶红 手游 道具|鹤顶红 色 指甲油",
        "hornbill plush|hornbill bird print|hornbill conservation poster",
        "小说 全套{n}本|口红色号 鹤顶红|经典老歌|游戏道具 不是实物",
        "art print A3|plush toy|conservation poster",
        (10, 300)),
      S("goldfish", "live",
        "鹤顶红 金鱼|红帽 鹤顶红 金鱼 {n}条|丹顶 金鱼",
        "red cap oranda goldfish",
        "金鱼 红帽 {cm}cm|好养 包活|鱼场直发",
        "healthy, {cm}cm",
        (10, 300)),
      S("crane", "goods",
        "丹顶鹤 摆件|仙鹤 刺绣|丹顶鹤 国画",
        "crane figurine|crane embroidery",
        "陶瓷摆件|手工刺绣|国画 装裱",
        "ceramic|hand embroidered",
        (20, 800))),
    F("hn.bear_bile", 0, "hard_negative", "bear_bile", 0.9, "🐻",
      S("licensed", "consumable",
        "熊胆粉 国药准字 正规厂家|熊胆滴眼液|熊胆 胶囊 药房|熊胆粉 养殖 持证 批准文号",
        "licensed farmed bear bile capsules (pharmacy)",
        "国药准字 正规药房购买|养殖场 合法持证 批准文号可查|有药品批号 附发票",
        "licensed pharmaceutical, approval number on box",
        (10, 800)),
      S("toys_food", "goods",
        "熊本熊 玩偶|小熊 软糖|泰迪熊 老款",
        "teddy bear vintage|gummy bears 1kg|bear plush",
        "熊本熊 正版|软糖 {g}克",
        "vintage teddy|1kg bag",
        (10, 300))),
    F("hn.saiga", 0, "hard_negative", "saiga", 0.8, "🦌",
      S("otc", "consumable",
        "羚羊感冒片|羚羊清肺丸|羚羊 感冒 胶囊",
        "antelope-brand cold tablets",
        "感冒药 药房正品|有批号 OTC",
        "pharmacy OTC",
        (10, 80)),
      S("crafts", "goods",
        "羚羊 摆件|山羊角 工艺品|黄羊角 摆件|羚羊角 仿品 树脂",
        "antelope figurine|goat horn craft|springbok print",
        "山羊角 工艺品|树脂仿品|木雕 摆件",
        "goat horn, craft|print",
        (10, 500))),
    F("hn.fish_maw", 0, "hard_negative", "totoaba", 1.0, "🐟 🍲",
      S("maw", "consumable",
        "鳕鱼胶 花胶|巴西鸭泡|北海 鱼肚|鮰鱼胶|花胶 即食|黄花鱼胶 养殖",
        "cod fish maw|farmed fish maw|fish maw soup kit",
        "鳕鱼胶 养殖|炖汤 美容|{g}克一包|产地 巴西 合法进口",
        "farmed, food grade|{g}g pack",
        (20, 800)),
      S("meal", "consumable",
        "花胶鸡 套餐|花胶鸡 火锅 券",
        "fish maw chicken hotpot voucher",
        "到店使用|{n}人份",
        "dine in only",
        (50, 300))),
    F("hn.shark", 0, "hard_negative", "shark_fin", 1.0, "🦈",
      S("imitation_food", "consumable",
        "素鱼翅 仿鱼翅|鱼翅瓜|鱼翅瓜 新鲜|仿鱼翅 粉丝",
        "imitation shark fin soup|vegetarian fin",
        "素翅 魔芋做的|鱼翅瓜 农家种的|{n}斤装",
        "vegetarian fin made from gelatin",
        (10, 200)),
      S("fossil_toys", "goods",
        "巨齿鲨 牙齿 化石|鲨鱼 毛绒|鲨鱼 夹子|鲨鱼 拖鞋",
        "megalodon tooth fossil|shark plush|shark slippers|shark hair clip",
        "化石 几百万年|毛绒 可爱|{n}码",
        "fossil tooth {cm}cm|cute shark plush",
        (10, 3000))),
    F("hn.turtles", 0, "hard_negative", "sea_turtle", 1.0, "🐢",
      S("toys_jewellery", "goods",
        "海龟 毛绒|海龟 摆件|海龟 项链 925银|海马 毛绒|海龟 小夜灯",
        "sea turtle plush|turtle necklace sterling|sea turtle figurine|seahorse plush",
        "925银 不过敏|毛绒 可爱|树脂 摆件",
        "sterling silver|plush, washable",
        (10, 500)),
      S("games_food", "goods",
        "海龟汤 题目 合集|海龟汤 剧本杀|龟苓膏",
        "turtle soup puzzle book",
        "海龟汤 推理游戏|题目{n}道|龟苓膏 {n}罐",
        "lateral thinking puzzles",
        (10, 100))),
    F("hn.primates", 0, "hard_negative", "primates", 0.9, "🐒 🍄",
      S("food_tea", "consumable",
        "猴头菇|太平猴魁|猴头菇 干货|猴魁 新茶",
        "dried lion's mane mushroom",
        "猴头菇 干货 {g}克|猴魁 新茶|产地直发",
        "{g}g bag",
        (20, 800)),
      S("toys", "goods",
        "猴子 毛绒|袜子猴|猴子 公仔|懒猴 表情包 抱枕",
        "monkey plush|sock monkey|monkey figurine|slow loris pillow|monkey bread pan",
        "毛绒 公仔|抱枕 可拆洗",
        "plush toy|ceramic figurine",
        (10, 200))),
    F("hn.parrots", 0, "hard_negative", "parrots", 1.1, "🦜",
      S("pet_birds", "live",
        "虎皮鹦鹉 人工繁殖|玄凤鹦鹉 幼鸟|牡丹鹦鹉 一对|虎皮鹦鹉 一对|玄凤 手养",
        "budgie captive bred|cockatiel baby|lovebirds pair|hand-reared cockatiel",
        "人工繁殖 手养|玄凤 会吹口哨|{age}周 吃饲料|自家繁殖 健康",
        "captive bred, hand fed|whistles tunes",
        (20, 800)),
      S("supplies", "goods",
        "鹦鹉笼子|鹦鹉 饲料|鹦鹉 玩具|鹦鹉 站杆",
        "parrot cage|parrot food|parrot toys",
        "笼子 {cm}cm|饲料 营养全",
        "cage {cm}cm|pellet food",
        (20, 600))),
    F("hn.tortoises", 0, "hard_negative", "tortoises", 1.0, "🐢",
      S("pets", "live",
        "巴西龟|草龟 养殖|苏卡达 人工繁殖 有证|黄耳龟 苗",
        "red-eared slider|sulcata captive bred, papers",
        "巴西龟 好养|养殖场出的|人工繁殖证 齐全",
        "easy pet|captive bred, with paperwork",
        (10, 3000)),
      S("supplies", "goods",
        "龟缸|龟粮|乌龟 毛绒|龟 晒台",
        "turtle tank|turtle food|tortoise plush",
        "龟粮 {g}克|龟缸 带晒台",
        "tank with basking area",
        (10, 400)),
      S("herbal_jelly", "consumable",
        "龟苓膏 {n}罐|龟苓膏 粉",
        "herbal jelly tins",
        "清热 {n}罐一箱",
        "pack of {n}",
        (10, 100))),
    F("hn.reptiles", 0, "hard_negative", "reptiles", 1.0, "🐍",
      S("pets", "live",
        "玉米蛇 人工繁殖|鬃狮蜥 宝宝|豹纹守宫 苗子|球蟒 人工繁殖",
        "corn snake captive bred|bearded dragon baby|ball python CB",
        "人工繁殖 温顺|开食稳定|{cm}cm",
        "captive bred, docile|feeding on frozen",
        (100, 3000)),
      S("faux_other", "goods",
        "鳄鱼纹 包包|蛇皮袋|蛇果|爬宠 加热灯",
        "croc-embossed handbag|Lacoste polo|reptile heat lamp",
        "压纹PU 不是真皮|蛇果 新鲜|加热灯 {n}W",
        "embossed PU, not real leather",
        (5, 1500))),
    F("hn.songbirds", 0, "hard_negative", "songbirds", 1.0, "🐦 ✏️",
      S("brow_pencil", "goods",
        "画眉笔|画眉 眉笔 防水|眉笔 画眉 {n}支",
        "eyebrow pencil",
        "画眉笔 防水|不脱妆",
        "waterproof brow pencil",
        (5, 200)),
      S("supplies_bred", "goods",
        "鸟笼 竹制|鸟食|鸟笼 画眉笼|金丝雀 人工繁殖|文鸟 一对",
        "bird cage|bird seed|canary captive bred|zebra finches",
        "竹鸟笼 手工|人工繁殖 健康|鸟食 {g}克",
        "handmade cage|captive bred",
        (5, 1000))),
    F("hn.coral", 0, "hard_negative", "coral", 1.1, "🪸",
      S("decor", "goods",
        "仿真珊瑚 鱼缸|珊瑚 树脂 摆件|人工 珊瑚 造景",
        "artificial coral aquarium decor|resin coral ornament",
        "树脂仿真 鱼缸造景|不褪色",
        "resin, aquarium safe",
        (10, 500)),
      S("fleece_colour", "goods",
        "珊瑚绒 毯子|珊瑚色 口红|珊瑚绒 睡衣|珊瑚海 CD",
        "coral fleece blanket|coral lipstick|reef safe sunscreen",
        "珊瑚绒 不掉毛|珊瑚色 显白",
        "fleece, soft",
        (10, 300))),
    F("hn.musk", 0, "hard_negative", "musk", 1.3, "🌸",
      S("perfume_medicine", "consumable",
        "白麝香 香水|麝香 身体乳|人工麝香 保心丸|麝香痔疮膏",
        "white musk perfume|musk body mist",
        "香味持久|人工麝香 药房正品",
        "long lasting scent",
        (10, 600)),
      S("homonyms", "consumable",
        "麝香葡萄|麝香百合|马斯克 传记",
        "muscat grapes|Elon Musk biography|musk melon seeds",
        "麝香葡萄 新鲜|百合 {n}枝",
        "fresh, {n}kg box",
        (10, 200)),
      S("antler", "consumable",
        "养殖 鹿茸 片|梅花鹿 鹿茸 养殖场",
        "farmed deer antler velvet",
        "鹿茸 养殖场 有检疫证|切片 {g}克",
        "farmed antler, inspected",
        (100, 1500))),
    F("hn.advocacy", 0, "hard_negative", "ivory", 1.2, "🐘 💚",
      S("ngo", "info",
        "拒绝象牙 公益|保护穿山甲 志愿者招募|打击野生动物贩卖 新闻|象牙禁贸 讲座|保护犀牛 义卖 T恤|世界穿山甲日 活动",
        "Stop ivory trade petition|anti-poaching ranger fundraiser|rhino conservation charity shirt|wildlife trafficking report|#protectantiqueivory debate|ivory ban explained",
        "没有买卖就没有杀害|欢迎转发|义卖所得捐给保护区|不卖 仅分享|举报电话 请拨打",
        "no buying, no killing|all proceeds to rangers|not for sale, sharing info|report suspected trafficking",
        (0, 100))),
    F("hn.wanted_imitation", 0, "hard_negative", "rhino_horn", 0.7, "🎬",
      S("wanted", "info",
        "求购 仿犀角 树脂 道具|收 仿象牙 拍戏道具|求 仿鹤顶红 树脂|求购 仿古 牛骨 摆件",
        "WTB faux ivory props for film|wanted resin rhino horn replica|looking for plastic tusks for costume",
        "只要仿品 道具用|树脂的就行|剧组用",
        "replica only, for a play|resin is fine",
        (0, 500))),
)

# --------------------------------------------------------------------------
# Ordinary listings (label 0): what most of a marketplace is.
# --------------------------------------------------------------------------
ORDINARY_POOLS: tuple[Pool, ...] = flatten(
    F("ord.phones", 0, "ordinary", "", 1.4, "📱",
      S("phones", "goods",
        "iPhone 14 Pro 256G|华为 Mate 60|小米14|OPPO Find X6|vivo X100|三星 S23|iPhone 13 二手|荣耀 Magic5",
        "iPhone 14 Pro 256GB|Samsung Galaxy S23|Pixel 8|OnePlus 11|iPhone 12 mini",
        "电池健康{n}%|国行 无拆修|屏幕完美|配件齐全|保修还有{n}个月",
        "battery health {n}%|no scratches|comes with charger|unlocked",
        (800, 7000))),
    F("ord.clothes", 0, "ordinary", "", 1.3, "👗 👟",
      S("clothes", "goods",
        "羽绒服 女款|牛仔裤 直筒|卫衣 加绒|连衣裙 法式|冲锋衣|羊毛大衣|汉服 马面裙",
        "winter jacket|denim jeans|hoodie fleece|wool coat|summer dress",
        "尺码M|只穿过{n}次|面料舒适|吊牌还在|洗过一次",
        "size M|worn {n} times|tags still on",
        (30, 1500)),
      S("shoes", "goods",
        "运动鞋 耐克|AJ1 倒钩|新百伦 530|马丁靴",
        "Nike trainers|Air Jordan 1|New Balance 530|Dr Martens boots",
        "{n}码|鞋盒还在|正品 有小票|懂的来 不懂勿扰|懂的来 配色绝版",
        "UK {n}|box included",
        (100, 2000))),
    F("ord.tea", 0, "ordinary", "", 1.0, "🍵",
      S("tea", "consumable",
        "普洱 熟茶 饼|西湖龙井 明前|安溪铁观音|大红袍|白茶 老寿眉|野生 古树茶",
        "pu-erh tea cake|oolong tea|jasmine green tea|matcha powder",
        "{g}克一饼|新茶 香气足|存放{n}年|野生古树 口感醇厚|懂茶的来",
        "{g}g cake|aged {n} years",
        (50, 2000))),
    F("ord.books", 0, "ordinary", "", 1.0, "📚",
      S("books", "goods",
        "考研 英语 真题|三体 全套|哈利波特 英文版|二手 教材|红楼梦 线装|漫画 全集",
        "Harry Potter box set|textbooks bundle|manga collection|cookbook",
        "有笔记|九成新|全套{n}本|没有缺页",
        "{n} books|like new",
        (10, 600))),
    F("ord.furniture", 0, "ordinary", "", 1.0, "🛋",
      S("furniture", "goods",
        "实木 餐桌|布艺沙发|宜家 书架|床垫 1.8米|电脑桌",
        "solid oak dining table|sofa 3 seater|IKEA bookshelf|mattress king",
        "自提 不送货|尺寸{cm}cm|搬家急出|实木 结实",
        "collection only|{cm}cm wide|moving sale",
        (100, 8000)),
      S("old_wood", "collectible",
        "老榆木 柜子|樟木箱 老物件|老式 八仙桌|民国 木床",
        "vintage chest of drawers|antique pine dresser",
        "老物件 包老|榫卯结构|有年份 包浆好",
        "solid pine, antique",
        (300, 8000))),
    F("ord.jade_amber", 0, "ordinary", "", 1.5, "💚 📿",
      S("jade", "collectible",
        "和田玉 手镯|翡翠 平安扣|和田玉 籽料 挂件|翡翠 手镯 冰种|青玉 手串",
        "jade bangle|jadeite pendant|nephrite bracelet",
        "A货 带证书|天然无优化|油性好 包浆|{mm}mm 圈口|老货 传世|籽料 带皮|懂的来 种水自己看",
        "natural, certified|{mm}mm inner diameter|old collection piece",
        (300, 30000)),
      S("amber_agate", "collectible",
        "蜜蜡 手串|琥珀 吊坠|南红 玛瑙|绿松石 原矿|老蜜蜡 108颗|蜜蜡 老料 珠子",
        "amber bead bracelet|turquoise ring|agate beads|Baltic amber necklace",
        "天然蜜蜡 可检测|老料 收藏级|{mm}mm 一颗|鸡油黄|满蜜 不是树脂",
        "natural Baltic amber|{mm}mm beads|old stock",
        (200, 20000))),
    F("ord.cosmetics", 0, "ordinary", "", 1.0, "💄",
      S("cosmetics", "goods",
        "雅诗兰黛 小棕瓶|兰蔻 粉水|SK-II 神仙水|口红 套装|面膜 一盒|防晒霜",
        "Estee Lauder serum|lipstick set|sunscreen SPF50|face masks",
        "专柜正品|日期新鲜|{n}ml|未拆封",
        "sealed|exp 2028",
        (30, 1500))),
    F("ord.food", 0, "ordinary", "", 1.0, "🍯",
      S("wild_food", "consumable",
        "野生 蜂蜜|野生 菌子 干货|野生 猕猴桃|野生 葛根粉",
        "raw wild honey|wild dried mushrooms|foraged wild garlic",
        "野生的 山里采的|农家自产|{g}克一罐|现摘现发",
        "foraged|{g}g jar",
        (20, 400)),
      S("farm_food", "consumable",
        "腊肉 农家|土鸡蛋|五常大米|自制 辣椒酱",
        "homemade jam|free range eggs|sourdough starter",
        "农家自产|{n}斤装|现做现发",
        "homemade|free range",
        (20, 300))),
    F("ord.electronics", 0, "ordinary", "", 1.3, "💻 🎧",
      S("electronics", "goods",
        "索尼 耳机|MacBook Air M2|任天堂 Switch|iPad 第9代|机械键盘|显卡 3060|相机 富士 XT4",
        "Sony headphones|MacBook Air M2|Nintendo Switch|iPad 9th gen|mechanical keyboard|RTX 3060",
        "成色很新|盒说全|功能正常|发票在|懂的来 绝版配置",
        "works perfectly|boxed|receipt included",
        (100, 9000))),
    F("ord.pets", 0, "ordinary", "", 1.0, "🐶 🐱",
      S("supplies", "goods",
        "猫粮|狗粮|猫砂|猫爬架|狗窝",
        "cat food|dog bed|cat litter|cat tree",
        "{g}克|狗窝 可拆洗|没拆封",
        "washable bed|unopened bag",
        (20, 800)),
      S("pets", "live",
        "英短 蓝猫 幼猫|柯基 幼犬|布偶猫 幼猫|金毛 幼犬",
        "golden retriever puppy|ragdoll kitten|corgi puppy",
        "幼猫 {age}周 打过疫苗|家养 自家繁殖|可上门看",
        "vaccinated, {age} weeks|home bred",
        (500, 8000))),
    F("ord.antiques", 0, "ordinary", "", 1.4, "🏺",
      S("antiques", "collectible",
        "青花瓷 瓶 老货|铜香炉 宣德款|民国 粉彩 盘|老铜钱 一串|木雕 老物件|紫砂壶 老壶|清代 铜镜",
        "antique blue and white vase|bronze incense burner|carved wooden figure|old copper coins|Yixing teapot",
        "底款清晰|尺寸{cm}cm|民国时期|开片自然|包浆厚|懂的来 看图说话|懂行的来 不解释",
        "{cm}cm tall|maker's mark on base",
        (200, 20000))),
)


# --------------------------------------------------------------------------
# v2 families (issue 3): more coded families, more hard negatives and more
# ordinary goods in English seller talk, so that neither "a lexicon word is
# present" nor "the text sounds like a seller" gives a label away.  Every
# code here is documented in domain-notes §3 (white/black/red, unicorn disks,
# 小猫 = red panda, 高鼻羚羊) or is a standard species name; the wording is the
# author's own.
# --------------------------------------------------------------------------
POSITIVE_POOLS_V2: tuple[Pool, ...] = flatten(
    F("ivory.colour_code", 1, "coded", "ivory", 1.2, "⚪ 🤫",
      S("white", "collectible",
        "老白 印章|老白 牌子 雕花|大白 手镯 老料|白的 佛珠 老货|老白 筷子 一套|白货 观音 雕件|老白 鼻烟壶|白的 扇骨|老白 平安扣",
        "the white, carved seal|old white bangle (you know the material)|white stock, carved beads",
        "白的 懂的人自然懂|图片看纹路 不多说|压手 比骨头重|禁令之前的老东西|不走平台 私下交易|有细密交叉纹",
        "those who know the white will understand|cross grain visible, heavier than bone|old stock from before the ban",
        (2000, 60000))),
    F("rhino_horn.colour_code", 1, "coded", "rhino_horn", 1.0, "⚫ 🦄",
      S("black", "collectible",
        "黑料 酒盏|大黑 碗 老货|黑的 扳指|黑料 手串 竹丝纹|黑货 整支|大黑 镑片",
        "the black one, carved cup|black material, old bowl",
        "黑的 行家自然懂|竹丝纹明显 不是水牛角也不是牦牛角|刮下来能泡水 退烧|老的 有包浆|按克算 不议",
        "not buffalo, not yak, ask for close-ups|grain visible at the base",
        (10000, 200000)),
      S("unicorn", "consumable",
        "独角兽 角粉 退烧|独角兽 切片 {n}片装|非洲 独角兽 整只角|独角兽 刨花",
        "unicorn slices (the African kind)|unicorn horn shavings|unicorn disc set",
        "不是玩具 懂的来|每片{g}克 泡水喝|退烧用 家里常备|非洲过来的 量少",
        "not a toy, you know what unicorn|sold by the slice, {g}g each",
        (8000, 120000))),
    F("other.red_panda", 1, "coded", "other", 0.8, "🦊 🐾",
      S("live", "live",
        "小熊猫 幼崽|火狐 幼崽 活体|九节狼 小只|红熊猫 宠物|小猫 九节尾 吃竹子|小猫 棕红色 会上树 非家猫",
        "red panda cub|baby red panda for sale|firefox (the animal) cub",
        "尾巴上有九道环 不是家猫|吃竹叶 会上树|野外带回来的|没有证 只能自提|红棕色 毛很厚",
        "eats bamboo, tame|no papers, local pickup only|ringed tail, very rare pet",
        (3000, 30000))),
    F("other.owls", 1, "plain", "other", 0.8, "🦉",
      S("live", "live",
        "领角鸮 幼鸟|红角鸮 活体|雕鸮 雏鸟|猫头鹰 活体 野生|纵纹腹小鸮 亚成|鸮 活体 幼鸟",
        "live scops owl chick|eagle owl chick for sale|baby owl, wild caught|little owl, live",
        "山里掏的窝|吃肉 已开食|没有证 懂的来|野生的 性子烈|可以视频看",
        "taken from the nest, eating mice|no papers, wild|can video",
        (500, 8000))),
    F("tortoises.codes_v2", 1, "coded", "tortoises", 0.8, "🐢 ⭐",
      S("radiated", "live",
        "马达产 射纹龟 小龟|射纹 小龟 {n}只|马达加斯加 射纹龟 苗|辐射陆龟 幼体 无证|犁头 陆龟 苗",
        "rads hatchlings (radiated)|ploughshare hatchling|radiated babies, no paperwork",
        "刚出壳的 没有证|一手货源 只走熟人|马达过来的 量少|壳纹漂亮 星星放射",
        "no CITES, cash only|fresh import, very small",
        (3000, 50000))),
    F("parrots.codes_v2", 1, "coded", "parrots", 0.9, "🦜",
      S("grey", "live",
        "非洲灰 雏鸟 无脚环|灰机 幼鸟 手养|刚果灰 雏鸟|大灰 鹦鹉 没证",
        "Congo African grey babies, unringed|CAG babies hand fed|Timneh baby without documents|African grey hatchlings, wild caught parents",
        "没有脚环 没有证 所以便宜|手养 会说话|野生父母|只接受现金 自提",
        "unringed, no documents, priced to go|parents wild caught|cash only, no questions",
        (3000, 20000))),
    F("saiga.codes_v2", 1, "coded", "saiga", 0.7, "🐐",
      S("horn", "consumable",
        "高鼻羚羊角 整支|羚角 镑片|羚羊角 尖 {g}克|羚羊角丝 老货",
        "saiga horn whole|saiga horn shavings|antelope horn (saiga), old",
        "老角 透光 有血丝|退烧 懂药的来|西北来的 量少|整支 {g}克 按克卖",
        "whole horn {g}g, translucent|traditional fever remedy|from Kazakhstan, limited",
        (1500, 30000))),
)

HARD_NEGATIVE_POOLS_V2: tuple[Pool, ...] = flatten(
    F("hn.animal_named_food", 0, "hard_negative", "tiger", 1.0, "🍗 🍜",
      S("food", "consumable",
        "虎皮鸡蛋 卤味|虎皮尖椒 下饭菜|猫耳朵 小吃|红烧狮子头 半成品|熊掌豆腐 家常菜|老虎菜 凉拌",
        "tiger prawns frozen 1kg|tiger bread loaf|bear claw pastries, fresh baked|elephant ear pastries|tiger nut milk|tiger stripe cake",
        "真空包装 开袋即食|卤味 麻辣 追剧必备|家常做法 名字好听而已|冷链发货",
        "vacuum packed, ready to eat|named for the texture, no animal parts beyond chicken|baked this morning",
        (10, 200))),
    F("hn.animal_shaped", 0, "hard_negative", "sea_turtle", 1.2, "🐢 💡",
      S("lamps", "goods",
        "海龟 抱枕|大象 台灯 卧室|犀牛 摆件 树脂|猫头鹰 挂钟|海龟 冰箱贴|鹦鹉 灯 北欧风|老虎 摆件 陶瓷|穿山甲 钥匙扣",
        "sea turtle wall decal|elephant table lamp|resin rhino ornament|owl alarm clock for kids|turtle tote bag|ceramic tiger figurine",
        "USB充电 送小朋友|树脂材质 不是真的|陶瓷 手绘|三档亮度|卧室装饰",
        "USB rechargeable, gift for kids|resin, hand painted|three brightness levels|bedroom decor",
        (20, 400))),
    F("hn.other_bone", 0, "hard_negative", "ivory", 1.3, "🦴",
      S("bone_beads", "goods",
        "骆驼骨 手镯|牦牛骨 念珠|牛骨 书签|牛骨 发簪 手工|骆驼骨 雕刻 摆件|牛骨 刮痧板",
        "camel bone bangle|yak bone mala|cow bone bookmark, handmade|ox bone hair pin|bone button blanks",
        "牛骨能看到血丝孔 一眼就能跟象牙分开|不是象牙 放心购买|便宜实用 手工打磨|牧区合作社出品|骨头材质 有天然纹理",
        "inexpensive, handmade|easy to tell from ivory: visible pores|not ivory, legal bone from the meat trade|from a herders' cooperative",
        (10, 300))),
    F("hn.comparison", 0, "hard_negative", "ivory", 0.8, "📿",
      S("alternatives", "goods",
        "象牙果 手串 植物|仿象牙 树脂 摆件|象牙色 骨瓷 餐具|平替 象牙 质感 亚克力|非象牙 塔古亚 雕件",
        "ivory alternative resin carving|tagua nut (vegetable ivory) beads|not ivory: bone china set|ivory-free piano keys|faux ivory buttons, plastic",
        "植物果实 不是动物|树脂材质 可以火烧测试|替代品 环保|和真象牙区别很大",
        "plant based, no animal product|resin, not ivory|an ethical substitute",
        (10, 500))),
    F("hn.fish_maw_farmed", 0, "hard_negative", "totoaba", 1.0, "🐟",
      S("maw", "consumable",
        "鮰鱼肚 炖汤|养殖 黄鱼胶|鳘鱼胶 养殖|花胶筒 即食 礼盒|鱼肚 干货 酒楼用",
        "farmed fish maw|dried fish maw for soup|basa fish maw|croaker maw, farmed",
        "养殖鱼种 货源稳定|正规进口 有检疫证明|煲汤炖奶|一斤{n}头",
        "farmed species, import papers|for soup",
        (50, 800))),
    F("hn.pangle_v2", 0, "hard_negative", "pangolin", 0.8, "📱",
      S("ads", "info",
        "穿山甲 广告 SDK 对接|穿山甲 流量主 收益|穿山甲 激励视频 代投|穿山甲 开屏 广告 优化",
        "Pangle mediation setup|Pangle rewarded video help|Pangle SDK (ByteDance) consulting",
        "熟悉后台配置|广告收益优化|游戏 app 流量变现|提供技术支持",
        "ad revenue optimisation for apps|SDK integration",
        (200, 5000))),
    F("hn.ambiguous_codes", 0, "hard_negative", "other", 1.4, "🐱",
      S("kittens", "live",
        "英短 小猫 蓝白|布偶 小猫 双血统|橘猫 小猫 送养|金渐层 小猫|美短 小猫 疫苗已打",
        "British shorthair kitten|ragdoll kittens ready|grey tabby kitten|grey kittens, vaccinated",
        "已打疫苗 驱虫|猫舍直出 有血统证|包健康 可视频|家养 亲人",
        "vaccinated and wormed|pedigree papers included|litter trained",
        (300, 6000)),
      S("white_black", "goods",
        "衡水老白干 白酒|大白兔 奶糖|明星 黑料 合集 电子版|大黑 狗绳|白的 衬衫",
        "grey hoodie|grey sofa cushions|black material phone case|white plastic storage box",
        "正品 假一赔十|纯棉 不起球|电子资料 发邮箱|塑料 收纳",
        "cotton, size M|plastic, stackable",
        (10, 300)),
      S("misc", "goods",
        "独角兽 玩偶|独角兽 蛋糕 生日|高鼻梁 仿真 模型|马达 电机 12v|射纹 玻璃 花瓶|小熊猫 玩偶 基地 纪念品",
        "unicorn plush toy|unicorn birthday cake topper|red panda plush|motor 12v",
        "毛绒 可水洗|生日派对|基地纪念品|电机 全新",
        "soft toy|party decoration|souvenir",
        (10, 300))),
    F("hn.wood_beads", 0, "hard_negative", "agarwood", 1.4, "📿",
      S("agarwood", "collectible",
        "沉香 手链|沉香 线香 家用|沉香 佛珠 108|奇楠 香 手串 收藏级|沉香 木 摆件",
        "agarwood bead bracelet|agarwood incense sticks|oud chips for burning",
        "盘玩后有油性|香味清雅 可以试香|人工种植 结香|有检测证书",
        "plantation grown, retail packaged|smells lovely warm|comes with a certificate",
        (100, 8000)),
      S("rosewood", "collectible",
        "黄花梨 手链|小叶紫檀 佛珠|红酸枝 手串|黄花梨 笔筒|紫檀 梳子",
        "rosewood bead bracelet|sandalwood mala|padauk wood comb",
        "油线明显|盘玩 越盘越亮|红木 家具厂边角料|木纹清晰",
        "dense old wood, patina|offcuts from a furniture maker",
        (100, 10000))),
)

ORDINARY_POOLS_V2: tuple[Pool, ...] = flatten(
    F("ord.en_seller_talk", 0, "ordinary", "", 2.2, "✨ 📦",
      S("beauty", "goods",
        "雅诗兰黛 小棕瓶|兰蔻 粉水|SK-II 神仙水|海蓝之谜 面霜",
        "Lancome Genifique 30ml|La Mer moisturising cream|Clinique moisture surge|Dior lipstick 999|Chanel No 5 EDP 100ml",
        "免税店买的 正品|只用过一次|日期新鲜",
        "bought duty free, genuine|tested once, not for my skin|full size, not a sample|expiry 2028",
        (100, 1500)),
      S("media", "goods",
        "黑胶唱片 披头士|CD 专辑 签名|Switch 游戏卡",
        "Pink Floyd LP 1970s|Queen vinyl, original sleeve|signed CD album|PS5 game bundle|Nintendo Switch OLED",
        "无划痕|播放正常|封套有轻微磨损",
        "plays without skips|sleeve has shelf wear|from my dad's collection|rare first pressing",
        (50, 3000)),
      S("phones_en", "goods",
        "二手 手机 双卡",
        "iPhone 15 128GB unlocked|Samsung A54 like new|Pixel 7a with box|Xiaomi Redmi Note 13",
        "电池健康好",
        "battery health 92%, original box|no charger, cable included|screen protector fitted since day one|unlocked to all networks",
        (500, 6000)),
      S("beads_en", "collectible",
        "菩提子 手串|星月菩提 108|文玩核桃 一对|橄榄核 雕刻",
        "walnut pair for hand exercise|olive pit carving|lava stone bracelet|rudraksha mala",
        "盘玩 包浆|手工雕刻",
        "collectors will know the quality|estate find, lovely patina|hand knotted",
        (30, 2000)),
      S("food_en", "consumable",
        "蜂蜜 农家|辣椒油 自制|香菇 干货",
        "raw local honey|homemade chilli oil|dried shiitake mushrooms|homemade kimchi jar|organic brown rice 5kg",
        "自家做的 无添加",
        "homemade, no additives|vacuum packed, long shelf life|bulk discount for regulars",
        (20, 300))),
)


# --------------------------------------------------------------------------
# Seller talk shared by EVERY class, so that none of it separates the labels.
# --------------------------------------------------------------------------
ZH_CONDITION = ("全新未拆", "九成新", "自用闲置", "实物拍摄", "所见即所得", "有轻微使用痕迹",
                "品相完好", "实拍无滤镜", "细节看图", "有瑕疵 介意勿拍", "成色如图")
ZH_COLLECT = ("品相完好", "实拍无滤镜", "细节看图", "所见即所得", "包浆自然", "老物件 有磨损",
              "看图说话", "收藏级", "可以拿去鉴定", "图片不代表全部 可视频", "自然光拍摄")
ZH_LIVE = ("包活", "到家死亡包赔", "可视频看", "可上门看", "已驱虫", "吃饲料稳定", "顺丰空运",
           "性格亲人", "状态很好", "自家繁殖", "不包运输风险", "只发顺丰")
ZH_CONSUMABLE = ("现货", "保质期新鲜", "真空包装", "产地直发", "按克卖", "一斤起发", "可以打粉",
                 "药房买不到", "量大从优", "送礼有面子", "密封保存", "可以先少量试")
ZH_INFO = ("欢迎转发", "详情见链接", "感兴趣的可以报名", "评论区聊", "关注不迷路", "接受咨询")
ZH_SHIP = ("包邮", "顺丰包邮", "偏远地区不包邮", "当天发货", "同城可面交", "支持验货",
           "48小时内发货", "江浙沪包邮", "不退不换", "拍下请备注", "货到付款", "周末统一发货")
ZH_CONTACT = ("私聊", "加微信", "加V详聊", "感兴趣的私我", "看中直接拍", "有意者留言",
              "朋友圈更多", "vx同号", "+v了解", "薇信联系", "加qq", "电话联系", "详情私聊",
              "懂的来", "诚心要的联系", "不回消息就是卖了")
ZH_PRICE = ("价格可小刀", "不议价", "价格面议", "诚心要的来", "一口价", "亏本出", "低价转",
            "不刀", "可以谈", "价格私聊", "原价{p}", "到手价{p}", "{p}元", "量大优惠")
ZH_PROVENANCE = ("家里老人留下的", "私人收藏", "老货", "传世", "包老包真", "懂行的来",
                 "识货的拿走", "有缘人得之", "朋友转让", "父亲的收藏", "早年间买的", "外公留下的",
                 "早年从香港带回来的", "拍卖会拍的")
ZH_STORY = ("搬家清理", "断舍离", "买多了", "送人没送出去", "出国前清理", "换新了", "急用钱",
            "占地方", "宝宝大了用不上", "老婆嫌多", "毕业清仓", "工作室清货")
ZH_TALK = {
    "goods": (ZH_CONDITION, ZH_CONDITION, ZH_SHIP, ZH_CONTACT, ZH_PRICE, ZH_STORY),
    "collectible": (ZH_COLLECT, ZH_SHIP, ZH_CONTACT, ZH_PRICE, ZH_PROVENANCE, ZH_PROVENANCE, ZH_STORY),
    "live": (ZH_LIVE, ZH_LIVE, ZH_SHIP, ZH_CONTACT, ZH_PRICE),
    "consumable": (ZH_CONSUMABLE, ZH_CONSUMABLE, ZH_SHIP, ZH_CONTACT, ZH_PRICE),
    "info": (ZH_INFO, ZH_INFO, ZH_CONTACT),
}
ZH_FILLER = ("之前一直放在柜子里", "拍照技术不好 实物更好看", "有问题可以随时问", "不懂的可以先问再拍",
             "本人上班族 晚上回消息", "东西是好东西 就是用不上了", "朋友看了都说值", "放着也是浪费",
             "之前有人问过 没谈拢", "周末在家 可以约时间", "第一次在这上面卖东西", "图片都是刚拍的",
             "老公说再不卖就扔了", "价格已经很低了 别再砍了", "有几个人在问 先到先得",
             "不是贩子 自己家的东西", "发货前会再拍视频确认", "好几年前入手的 当时价格更高",
             "买之前想清楚 售出不退", "{n}月份买的", "在家里放了{n}年")
EN_FILLER = ("Been sitting in a cupboard for years", "Photos don't do it justice",
             "Happy to answer questions", "Not a dealer, just clearing family stuff",
             "I work days so replies in the evening", "Had a few people asking already",
             "Bought this {n} years ago", "Wife says it has to go", "First time selling on here",
             "Will double wrap for posting", "Can send a video before you pay",
             "Honestly a great piece, just no room", "Check my other listings too",
             "Message before buying please", "No time wasters")
ZH_TAGS = ("包邮", "急出", "自用", "闲置", "低价", "实拍", "老货", "收藏", "捡漏", "清仓", "特价",
           "现货", "保真", "好物", "精品", "转让", "出")
ZH_TW = ("面交", "超商取货", "7-11取货付款", "全家取货", "私讯", "加LINE", "聊聊", "可小议",
         "虾皮下单", "台北捷运站面交", "欢迎聊聊", "板桥可面交")
ZH_HK = ("旺角交收", "有意PM", "WhatsApp联络", "可议价", "顺丰到付", "港岛交收", "唔议价",
         "地铁站交收", "深水埗可交收")
EN_CONDITION = ("Brand new", "Like new", "Used but in great condition", "See photos for condition",
                "Minor wear, nothing major", "Excellent condition", "Some scratches",
                "As found", "Untested, sold as is", "Mint")
EN_COLLECT = ("See photos for condition", "Lovely patina", "Age related wear", "As found",
              "Happy to send more photos", "Sold as seen", "Nice old piece", "Please look at all pictures")
EN_LIVE = ("Live arrival guaranteed", "Can video call", "Viewing welcome", "Eating well",
           "Comes with starter food", "Healthy and active", "Pick up only, no shipping of animals")
EN_CONSUMABLE = ("In stock", "Vacuum sealed", "Sold by weight", "Great for soup", "Bulk discount",
                 "Fresh batch", "Small trial orders ok", "Stored dry and sealed")
EN_INFO = ("Please share", "Link in bio", "Sign up below", "Comments open", "Spread the word")
EN_SHIP = ("Free shipping", "Ships next day", "Local pickup only", "Postage £3.50", "Can meet at MRT",
           "Ships worldwide", "Tracked postage", "Collection from {town}", "Will post",
           "Shipping at buyer's cost", "Meet up near {town}")
EN_CONTACT = ("DM me", "PM for price", "Message me on WhatsApp", "Serious buyers only",
              "Text me", "Inbox for more pics", "Add me on WeChat", "Contact via Telegram",
              "Ask me anything", "Send offers", "PM me")
EN_PRICE = ("No lowballers", "Price firm", "OBO", "Cash only", "Open to offers", "Price is negotiable",
            "${p} or best offer", "Asking {p}", "Bundle discount", "First come first served")
EN_PROVENANCE = ("Inherited from grandma", "Estate sale find", "From a private collection",
                 "Belonged to my late father", "Bought in the 80s", "Old family piece",
                 "Found in the attic", "Antique, pre-1900", "Came from an auction lot")
EN_STORY = ("Moving sale", "Decluttering", "Clearing out the house", "Must go this week",
            "Need the space", "Upgraded so selling this", "Gift I never used", "Relocating overseas")
EN_TALK = {
    "goods": (EN_CONDITION, EN_CONDITION, EN_SHIP, EN_CONTACT, EN_PRICE, EN_STORY),
    "collectible": (EN_COLLECT, EN_SHIP, EN_CONTACT, EN_PRICE, EN_PROVENANCE, EN_PROVENANCE, EN_STORY),
    "live": (EN_LIVE, EN_LIVE, EN_SHIP, EN_CONTACT, EN_PRICE),
    "consumable": (EN_CONSUMABLE, EN_CONSUMABLE, EN_SHIP, EN_CONTACT, EN_PRICE),
    "info": (EN_INFO, EN_INFO, EN_CONTACT),
}
EN_TAGS = ("L@@K", "RARE", "WOW", "Must see", "Bargain", "NR", "Free P&P", "Genuine", "Vintage",
           "Quick sale", "Reduced", "Collectible")
TOWNS = ("Bedok", "Jurong", "Manchester", "Leeds", "Brooklyn", "Queens", "Penang", "Petaling Jaya",
         "Sydney CBD", "Vancouver", "Toronto", "Houston", "Croydon", "Tampines")
MIXED_FRAGMENTS = ("pm价", "DM", "nego", "COD", "real pic", "100% authentic", "ship 顺丰", "self collect",
                   "pls", "ok", "FOC", "包邮 free shipping", "price nego", "instock", "same day ship")
SHARED_EMOJI = ("🔥", "✨", "💯", "📦", "🚚", "❤️", "👍", "🙏", "😊", "⭐", "💰", "🎁", "‼️", "👀",
                "🈹", "⚡", "✅", "😍")

# Terms that get separators inside them (positives; domain-notes §3.3 marks
# this tactic unverified, so it is a normalisation test pattern, at ~15%).
OBFUSCATABLE = ("犀牛角", "穿山甲", "鹤顶红", "羚羊角", "金钱鳘", "象牙", "犀角", "山甲", "虎骨",
                "虎皮", "豹皮", "玳瑁", "熊胆", "麝香", "珊瑚", "海龟", "懒猴", "鹦鹉", "陆龟",
                "画眉", "鹩哥", "鱼翅", "海马", "象料", "白塑料", "广角", "泡酒料",
                "ivory", "rhino", "pangolin", "tiger", "leopard", "hornbill", "tortoiseshell",
                "turtle", "coral", "musk", "loris", "tortoise", "bone", "unicorn", "hawksbill",
                "totoaba", "saiga", "shark")
# Negatives get separators too, on everyday words, so spacing is no tell.
NEGATIVE_OBFUSCATABLE = ("包邮", "全新", "微信", "正品", "闲置", "出售", "私聊", "面交",
                         "iphone", "wechat", "whatsapp", "brand new", "genuine", "vintage")
SEPARATORS = ("-", " ", ".", "*", "·", "_", "/", "丨", "  ")
LEET = {"o": "0", "i": "1", "e": "3", "a": "@", "s": "5"}

CURRENCIES_EN = (("USD", 0.14), ("GBP", 0.11), ("EUR", 0.13), ("SGD", 0.19), ("MYR", 0.65),
                 ("AUD", 0.21), ("CAD", 0.19))
CURRENCIES_MIXED = (("SGD", 0.19), ("MYR", 0.65), ("HKD", 1.08), ("CNY", 1.0))

_PLACEHOLDER = re.compile(r"\{(g|mm|cm|n|age|yr|p|town)\}")
_CONVERTERS = {name: opencc.OpenCC(name) for name in ("s2t", "s2tw", "s2twp", "s2hk")}


class Composer:
    """Turns a Pool into one concrete listing; all randomness from one RNG."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    # ---- small helpers ---------------------------------------------------
    def pick(self, seq: tuple[str, ...]) -> str:
        return seq[self.rng.randrange(len(seq))]

    def fill(self, text: str, price: float | None = None) -> str:
        """Replace {g}/{mm}/... placeholders with plausible fresh numbers."""
        r = self.rng

        def repl(m: re.Match[str]) -> str:
            key = m.group(1)
            if key == "g":
                return str(r.choice((r.randint(3, 60), r.randint(60, 600))))
            if key == "mm":
                return str(r.randint(6, 80))
            if key == "cm":
                return str(r.randint(3, 60))
            if key == "n":
                return str(r.randint(2, 30))
            if key == "age":
                return str(r.randint(3, 14))
            if key == "yr":
                return str(r.randint(1950, 1989))
            if key == "town":
                return self.pick(TOWNS)
            value = price if price else r.randint(50, 5000)
            return str(int(value))
        return _PLACEHOLDER.sub(repl, text)

    # ---- titles ----------------------------------------------------------
    def zh_title(self, pool: Pool, item: str) -> str:
        r = self.rng
        emoji = pool.emoji + SHARED_EMOJI
        choice = r.random()
        if choice < 0.22:
            return item
        if choice < 0.40:
            return f"{item} {self.pick(ZH_TAGS)}"
        if choice < 0.52:
            return f"【{self.pick(ZH_TAGS)}】{item}"
        if choice < 0.62:
            return f"{self.pick(emoji)}{item}{self.pick(emoji) * r.randint(0, 2)}"
        if choice < 0.72:
            detail = self.fill(self.pick(pool.zh_detail)) if pool.zh_detail else self.pick(ZH_TAGS)
            return f"{item} {detail}"
        if choice < 0.80:
            return f"{self.pick(('出', '转', '清仓', '出个', '低价出', '便宜出', '收藏级'))}{item}"
        if choice < 0.88:
            return f"{item}，{self.pick(ZH_TALK[pool.kind][-1])}"
        if choice < 0.94 and len(pool.zh) > 1:
            other = self.pick(pool.zh)
            return f"{item} {other}" if other != item else f"{item} {self.pick(ZH_TAGS)}"
        return f"{item} {self.pick(ZH_TAGS)} {self.pick(ZH_SHIP)}"

    def en_title(self, pool: Pool, item: str) -> str:
        r = self.rng
        choice = r.random()
        if choice < 0.20:
            title = item
        elif choice < 0.36:
            title = f"{self.pick(EN_TAGS)} {item}"
        elif choice < 0.48:
            title = f"{item} - {self.fill(self.pick(EN_CONDITION + EN_SHIP))}"
        elif choice < 0.58:
            title = f"{self.pick(('WTS', 'FS', 'For sale:', 'Selling', 'Available:'))} {item}"
        elif choice < 0.66:
            title = f"{item} {self.pick(pool.emoji + SHARED_EMOJI)}"
        elif choice < 0.76:
            detail = self.fill(self.pick(pool.en_detail)) if pool.en_detail else self.pick(EN_TAGS)
            title = f"{item} ({detail})"
        elif choice < 0.84:
            title = f"{item} !!! {self.pick(EN_TAGS)}"
        elif choice < 0.92:
            title = f"{self.pick(('Old', 'Vintage', 'Lovely', 'Nice', 'Large', 'Small', 'Rare'))} {item}"
        else:
            title = f"{item} | {self.pick(EN_STORY)}"
        case = r.random()
        if case < 0.12:
            title = title.lower()
        elif case < 0.18:
            title = title.upper()
        elif case < 0.30:
            title = title[:1].upper() + title[1:]
        return title

    # ---- descriptions ----------------------------------------------------
    def _shared_zh(self, kind: str, region: str) -> list[str]:
        r = self.rng
        pools = list(ZH_TALK[kind])
        if region == "tw":
            pools += [ZH_TW, ZH_TW]
        elif region == "hk":
            pools += [ZH_HK, ZH_HK]
        k = r.choice((0, 1, 1, 2, 2, 3, 3, 4, 5, 6))
        return [self.pick(pools[r.randrange(len(pools))]) for _ in range(k)]

    def _shared_en(self, kind: str) -> list[str]:
        r = self.rng
        pools = list(EN_TALK[kind])
        k = r.choice((0, 1, 1, 2, 2, 3, 3, 4, 5))
        return [self.pick(pools[r.randrange(len(pools))]) for _ in range(k)]

    def description(self, pool: Pool, lang: str, region: str, title: str,
                    price: float | None) -> str:
        """Pick a layout, then fill it with item details and shared seller talk."""
        r = self.rng
        en = lang == "en"
        details = pool.en_detail if en else pool.zh_detail
        items = pool.en if en else pool.zh
        shared = self._shared_en(pool.kind) if en else self._shared_zh(pool.kind, region)
        style = r.random()
        if style < 0.07:
            return ""
        n_detail = min(len(details), r.choice((0, 1, 1, 2, 2, 3, 4)))
        facts = [self.fill(d, price) for d in r.sample(details, n_detail)]
        talk = [self.fill(t, price) for t in dict.fromkeys(shared)]   # no repeats
        if style < 0.17 and facts:          # attribute sheet, then free chat
            keys = ("Item", "Details", "More", "Note") if en else ("品名", "描述", "细节", "说明")
            sep = ": " if en else "："
            lines = [f"{keys[0]}{sep}{self.fill(self.pick(items))}"]
            lines += [f"{keys[min(i + 1, 3)]}{sep}{f}" for i, f in enumerate(facts)]
            return "\n".join(lines + talk)
        if style < 0.29:                     # long ramble: story, facts, chat
            filler = EN_FILLER if en else ZH_FILLER
            parts = [self.fill(self.pick(filler)) for _ in range(r.randint(2, 5))]
            parts += facts + talk + [self.fill(t) for t in (self._shared_en(pool.kind) if en
                                                             else self._shared_zh(pool.kind, region))]
            r.shuffle(parts)
            joiner = self.pick((". ", ", ", " ") if en else ("，", "。", " ", "，"))
            return joiner.join(parts) + self.pick(("", ".", "!!", " 🙏", "～", "。"))
        parts = facts + talk
        if r.random() < 0.25 and items:
            parts.insert(0, self.fill(self.pick(items)))
        if not parts:
            parts = [self.fill(self.pick(details), price) if details else title]
        if r.random() < 0.6:                 # keep the first fact first, shuffle the rest
            head, tail = parts[:1], parts[1:]
            r.shuffle(tail)
            parts = head + tail
        else:
            r.shuffle(parts)
        if style < 0.37:                     # bullets
            bullet = self.pick(("- ", "• ", "✔ ", "★", "▪️", "* "))
            return "\n".join(bullet + p for p in parts)
        if style < 0.43:                     # repeat the title then chat
            parts.insert(0, title)
        joiners = (". ", ". ", "! ", "\n", ", ", " - ") if en else ("，", "。", "！", "\n", " ", "～", "；")
        text = self.pick(joiners).join(parts)
        if r.random() < 0.3:
            text += self.pick(("", "。", "!", "!!!", "～～", "...", " 🙏", " 😊", "。。。"))
        return text


def obfuscate(text: str, terms: tuple[str, ...], rng: random.Random) -> str | None:
    """Insert separators (or leetspeak) inside the first listed term found."""
    lowered = text.lower()
    for term in terms:
        start = lowered.find(term)
        if start < 0:
            continue
        word = text[start:start + len(term)]
        if word.isascii() and rng.random() < 0.3:
            swapped = "".join(LEET.get(c, c) if rng.random() < 0.6 else c for c in word)
            if swapped != word:
                return text[:start] + swapped + text[start + len(term):]
        if not word.isascii() and rng.random() < 0.12:
            # Pinyin instead of characters (domain-notes §3.3: unverified tactic,
            # kept rare): 羚羊角 → "lingyang jiao" / "lingyangjiao" / "ling yang jiao".
            syllables = lazy_pinyin(word)
            if len(syllables) > 1 and rng.random() < 0.5:
                cut = rng.randint(1, len(syllables) - 1)
                spelled = "".join(syllables[:cut]) + " " + "".join(syllables[cut:])
            else:
                spelled = (" " if rng.random() < 0.3 else "").join(syllables)
            return text[:start] + " " + spelled + " " + text[start + len(term):]
        sep = SEPARATORS[rng.randrange(len(SEPARATORS))]
        if len(word) > 3 and not word.isascii() and rng.random() < 0.5:
            cut = rng.randint(1, len(word) - 1)
            mangled = word[:cut] + sep + word[cut:]
        else:
            mangled = sep.join(word)
        return text[:start] + mangled + text[start + len(term):]
    return None


def typo(text: str, rng: random.Random) -> str:
    """One keyboard slip in a longer English word: swap, drop or double."""
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) > 4 and w.isalpha()]
    if not candidates:
        return text
    i = candidates[rng.randrange(len(candidates))]
    w = words[i]
    j = rng.randrange(1, len(w) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        w = w[:j] + w[j + 1] + w[j] + w[j + 2:]
    elif kind == 1:
        w = w[:j] + w[j + 1:]
    else:
        w = w[:j] + w[j] + w[j:]
    words[i] = w
    return " ".join(words)


_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


class Generator:
    """Draws pools by class quota, composes rows, enforces uniqueness."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.composer = Composer(self.rng)
        self.seen: set[tuple[str, str]] = set()

    def _weighted(self, pools: tuple[Pool, ...]) -> Pool:
        return self.rng.choices(pools, weights=[p.weight for p in pools], k=1)[0]

    def _lang(self, pool: Pool) -> str:
        r = self.rng
        if not pool.en:
            return "zh"
        if not pool.zh:
            return "en"
        x = r.random()
        if x < 0.55:
            return "zh"
        if x < 0.85:
            return "en"
        return "mixed"

    def _price(self, pool: Pool, lang: str, region: str, label: int) -> tuple[str, str, float | None]:
        r = self.rng
        if r.random() < (0.28 if label == 1 else 0.14):
            return "", "", None
        lo, hi = pool.price
        cny = r.uniform(lo, hi) if hi > lo else float(lo)
        if lang == "en":
            currency, rate = CURRENCIES_EN[r.randrange(len(CURRENCIES_EN))]
        elif lang == "mixed":
            currency, rate = CURRENCIES_MIXED[r.randrange(len(CURRENCIES_MIXED))]
        elif region == "tw":
            currency, rate = "TWD", 4.4
        elif region == "hk":
            currency, rate = "HKD", 1.08
        else:
            currency, rate = "CNY", 1.0
        value = cny * rate
        if value >= 1000:
            value = round(value, -2) - r.choice((0, 0, 1, 12))
        elif value >= 20:
            value = round(value) - r.choice((0, 0, 1))
        else:
            value = round(value, 1)
        value = max(value, 0)
        text = str(int(value)) if float(value).is_integer() else f"{value:.1f}"
        if r.random() < 0.04:
            currency = ""
        return text, currency, value

    def row(self, pool: Pool) -> dict[str, str]:
        r, c = self.rng, self.composer
        lang = self._lang(pool)
        region = ""
        if lang == "zh" and r.random() < TRADITIONAL_SHARE:
            region = "tw" if r.random() < 0.6 else "hk"
        price_text, currency, price = self._price(pool, lang, region, pool.label)
        if lang == "en":
            item = c.fill(c.pick(pool.en))
            title = c.en_title(pool, item)
            desc = c.description(pool, "en", "", title, price)
        elif lang == "zh":
            item = c.fill(c.pick(pool.zh))
            title = c.zh_title(pool, item)
            desc = c.description(pool, "zh", region, title, price)
        else:
            title, desc = self._mixed(pool, price)
        title, desc = self._noise(pool, lang, title, desc)
        out_lang = lang
        if region:
            conv = _CONVERTERS["s2hk"] if region == "hk" else _CONVERTERS[self.rng.choice(("s2tw", "s2twp", "s2t"))]
            title, desc = conv.convert(title), conv.convert(desc)
            out_lang = "zh-Hant"
        return {"title": title.strip(), "description": desc.strip(), "price": price_text,
                "currency": currency, "label": str(pool.label), "group": pool.group,
                "category": pool.category, "lang": out_lang, "source": f"{VERSION}:{pool.name}"}

    def _mixed(self, pool: Pool, price: float | None) -> tuple[str, str]:
        r, c = self.rng, self.composer
        mode = r.randrange(3)
        if mode == 0:   # English title, Chinese body (Carousell / Facebook style)
            title = c.en_title(pool, c.fill(c.pick(pool.en)))
            desc = c.description(pool, "zh", "", title, price)
        elif mode == 1:  # Chinese title, English body
            title = c.zh_title(pool, c.fill(c.pick(pool.zh)))
            desc = c.description(pool, "en", "", title, price)
        else:            # code-switching inside both
            title = c.fill(f"{c.pick(pool.zh)} {c.pick(pool.en)}")
            desc = c.description(pool, "zh", "", title, price)
            frags = [c.pick(MIXED_FRAGMENTS) for _ in range(r.randint(1, 3))]
            desc = (desc + " " + " ".join(frags)).strip()
        return title, desc

    def _noise(self, pool: Pool, lang: str, title: str, desc: str) -> tuple[str, str]:
        r = self.rng
        if pool.label == 1 and r.random() < 0.28:
            target_title = r.random() < 0.7
            text = title if target_title else desc
            mangled = obfuscate(text, OBFUSCATABLE, r)
            if mangled is None:
                text = desc if target_title else title
                mangled = obfuscate(text, OBFUSCATABLE, r)
                target_title = not target_title
            if mangled is not None:
                title, desc = (mangled, desc) if target_title else (title, mangled)
        elif pool.label == 0 and r.random() < 0.06:
            for which in (0, 1):
                text = (title, desc)[which]
                mangled = obfuscate(text, NEGATIVE_OBFUSCATABLE, r)
                if mangled is not None:
                    title, desc = (mangled, desc) if which == 0 else (title, mangled)
                    break
        if lang in ("en", "mixed") and r.random() < 0.15:
            if r.random() < 0.5:
                title = typo(title, r)
            else:
                desc = typo(desc, r)
        if lang != "en" and r.random() < 0.08:
            desc = desc.translate(_FULLWIDTH)
        if r.random() < 0.05:
            title = title + self.rng.choice(("!!!", "！！", "~~", "。。", "??"))
        return title, desc

    def build(self, n_rows: int) -> list[dict[str, str]]:
        quotas = {
            "positive": round(n_rows * CLASS_SHARES["positive"]),
            "hard_negative": round(n_rows * CLASS_SHARES["hard_negative"]),
        }
        quotas["ordinary"] = n_rows - quotas["positive"] - quotas["hard_negative"]
        plan: list[tuple[Pool, ...]] = []
        for cls, pools in (("positive", POSITIVE_POOLS + POSITIVE_POOLS_V2),
                           ("hard_negative", HARD_NEGATIVE_POOLS + HARD_NEGATIVE_POOLS_V2),
                           ("ordinary", ORDINARY_POOLS + ORDINARY_POOLS_V2)):
            plan += [pools] * quotas[cls]
        self.rng.shuffle(plan)
        rows: list[dict[str, str]] = []
        for pools in plan:
            for _attempt in range(200):
                row = self.row(self._weighted(pools))
                key = (row["title"], row["description"])
                if row["title"] and key not in self.seen:
                    self.seen.add(key)
                    break
            else:
                raise RuntimeError("could not compose a unique row after 200 attempts; "
                                   "grow the phrase pools or lower --rows")
            row["id"] = f"TR-{len(rows) + 1:05d}"
            rows.append(row)
        return rows


def to_csv(rows: list[dict[str, str]]) -> str:
    """CSV text with a fixed column order and \\n line ends (byte-stable)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row[k] for k in COLUMNS})
    return buf.getvalue()


def balance_table(rows: list[dict[str, str]]) -> str:
    """Markdown tables: rows per class and per group (pos / hard neg)."""
    n = len(rows)
    by_cat = Counter(r["category"] for r in rows)
    by_lang = Counter(r["lang"] for r in rows)
    pos = [r for r in rows if r["label"] == "1"]
    lines = [f"Rows: **{n}**; label 1: **{len(pos)}** ({len(pos) / n:.1%}); "
             f"label 0: **{n - len(pos)}** ({(n - len(pos)) / n:.1%}).", "",
             "| category | label | rows | share |", "|---|---|---|---|"]
    for cat, label in (("plain", 1), ("coded", 1), ("hard_negative", 0), ("ordinary", 0)):
        lines.append(f"| {cat} | {label} | {by_cat[cat]} | {by_cat[cat] / n:.1%} |")
    lines += ["", "| lang | rows | share |", "|---|---|---|"]
    for lang in ("zh", "zh-Hant", "en", "mixed"):
        lines.append(f"| {lang} | {by_lang[lang]} | {by_lang[lang] / n:.1%} |")
    groups = sorted({r["group"] for r in rows if r["group"]})
    lines += ["", "| group | positives (plain / coded) | hard negatives |", "|---|---|---|"]
    for g in groups:
        p = sum(1 for r in rows if r["group"] == g and r["category"] == "plain")
        cd = sum(1 for r in rows if r["group"] == g and r["category"] == "coded")
        h = sum(1 for r in rows if r["group"] == g and r["category"] == "hard_negative")
        lines.append(f"| {g} | {p + cd} ({p} / {cd}) | {h} |")
    return "\n".join(lines)


def update_card(card: Path, table: str) -> None:
    """Replace the generated block of the data card; fail if markers are missing."""
    text = card.read_text(encoding="utf-8")
    start, end = text.find(CARD_BEGIN), text.find(CARD_END)
    if start < 0 or end < start:
        raise SystemExit(f"{card}: markers {CARD_BEGIN!r} ... {CARD_END!r} not found; "
                         "add them where the balance table belongs")
    new = text[:start + len(CARD_BEGIN)] + "\n" + table + "\n" + text[end:]
    card.write_text(new, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV to write")
    parser.add_argument("--card", type=Path, default=DEFAULT_CARD, help="data card to update")
    parser.add_argument("--no-card", action="store_true", help="do not touch the data card")
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    if args.rows < 100:
        parser.error(f"--rows must be at least 100, got {args.rows}")
    rows = Generator(args.seed).build(args.rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(to_csv(rows).encode("utf-8"))
    if not args.no_card:
        update_card(args.card, balance_table(rows))
    print(f"wrote {len(rows)} rows to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
