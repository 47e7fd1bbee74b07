"""Context signals: is this text an offer, a mention, a depiction, or documented legal trade?

A species or product word alone is not an offer.  Real text full of animal
words is mostly news of seizures, advocacy, questions, merchandise with an
animal motif, or legal captive-bred stock; a trafficking listing is an *offer*:
a price, a quantity, a way to reach the seller, shipping, haggling, "出/收",
"for sale", "DM".  These rule families name which of those the text shows, so
the model can weigh a species hit by its context and an analyst can read why a
listing was (or was not) taken for an offer.

Families (``Evidence.rule == "signal"``, ``Evidence.kind`` is the family):

* ``offer``: trade-offer signals: price, quantity/weight, contact hand-off
  (WeChat/QQ/phone/Telegram/WhatsApp/Line/"DM"), shipping, negotiation,
  sell/buy verbs (出售, 求购, 回收, for sale, WTS/WTB), and a contact handle
  decoded from a disguise (``classifier.handles``);
* ``mention``: talk about the trade: enforcement news (查获, 判处, seized,
  sentenced), advocacy (拒绝, 保护, ban, endangered) and questions;
* ``depiction``: the animal is a motif, print, shape, toy, picture, book,
  team or nickname, or an animal seen in the wild or at a zoo, not the thing sold;
* ``legal``: documented legal trade: captive-bred with ring/chip and papers,
  permits, licences (人工繁育, 证件齐全, CITES permit, closed ring).

Everything runs on normalised text (``classifier.text.normalise``: simplified,
lower case, NFKC) with one compiled regex per family and no I/O.
"""
from __future__ import annotations

import re
from classifier.evidence import Evidence
from classifier.handles import extract_handles
from classifier.matching import LazyAutomaton, TermMatcher

__all__ = ["NEGATION_WORDS_LATIN", "SIGNAL_FAMILIES", "SignalMatcher", "signal_labels", "signal_summary"]

SIGNAL_FAMILIES = ("offer", "mention", "depiction", "legal")


def _whole_words_of(words: str, script: str) -> str:
    """``|w1|w2…``: each word matched where no letter or vowel sign of its ``script`` (a character range) stands
    right before or after it, written stem first so that SignalMatcher finds it by its stem in one scan.  The
    vowel signs of Devanagari and Bengali are no letters to a word boundary, so a bare कीमत ("price") would
    match inside कीमती ("precious")."""
    return "".join(f"|{w}(?<![{script}]{w})(?![{script}])" for w in words.split())


# (label, pattern) per family; the label is what an analyst reads in the evidence
# ("offer:contact"), the pattern is matched on normalised text.  Latin words use
# \b; CJK needs none.  Kept deliberately to markers that are common in real text
# of their kind and rare elsewhere; the model learns how much each is worth.
_PATTERNS: dict[str, tuple[tuple[str, str], ...]] = {
    "offer": (
        ("price", r"[¥$€£]\s?\d|\d\s?(?:元|块|rmb|cny|usd|hkd|twd|ntd|eur|gbp|myr|sgd)\b|\d\s?(?:元|块)"
                  r"|(?:价格|售价|价钱|一口价|特价|标价|单价)[:：]?\s?\d|\b(?:price|asking|only)\s?:?\s?[¥$€£]?\d"
                  # per-unit prices (120/g, 500一克), prices by arrangement, payment in hand
                  r"|\d\s?/\s?(?:克|g\b|gram|两|斤|kg\b|只|对|条|支|pc)|\d\s?(?:一克|一两|一斤|一只|一对|一支|一根|一张)"
                  r"|(?:一克|一两|一斤|一只|一对|一支|一根|一张)\s?\d|一口价|价私|价格私|价格面谈|价格电话|白菜价|打包价|友情价"
                  r"|\d\s?k?\s?(?:rm|tr|triệu|baht|rs|inr|kes|zar|php|dollars?|bucks|quid|euros?)\b|\brp\.?\s?\d"
                  r"|\bprice (?:on|upon) (?:request|application)\b|\bpoa\b|\bsend (?:an |me an |your )?offers?\b|\bestimate:? \d|\b(?:msg|message|pm|dm|ask|inbox|contact)(?: me)? for (?:price|details)\b"
                  r"|\bprice by\b|\bbundle price\b|\brehoming fee\b|\bcash only\b|\bcash\b|\bcrypto\b|\busdt\b"
                  r"|\bpaypal\b|\bvenmo\b|\bwestern union\b|\bsend money\b|\bpaying\b|\bharga\b|\bgiá\b|ราคา"
                  # the Latin American and Asian markets' money: "120 reais", "S/ 600", "₡120 mil", "25 soles c/u"
                  r"|\d\s?(?:reais|pesos|soles|bolivianos|bs|quetzales|lempiras|colones|c[oó]rdobas|lucas|mxn|brl"
                  r"|ars|clp|gtq|hnl|crc|nio|ngn|ugx|tzs|ghs|pkr|bdt|lkr|rb|jt)\b|[₡₱₦₹₫฿₲]\s?\d|\bs/\.?\s?\d"
                  r"|\d\s?(?:c/u|cada|la pieza|el kilo|o kg|el par|o par|la bolsa|por unidad|a unidade|sebiji|per ekor|mỗi con)\b"
                  r"|\bprecio\b|\bpre[cç]o\b|\bpix\b|\bsinpe\b|\bal contado\b|\bà vista\b|\bfarashi\b"
                  # Africa's and South Asia's money and asking words: "5000 fcfa", "ksh 800", "bei nafuu", "prix"
                  r"|\d\s?(?:fcfa|cfa|xaf|xof|cedis?|naira|ksh|kshs|tsh|ush|kwacha|meticais|birr|rupees?|taka|tk)\b"
                  # Europe's: "Preis: 80", "VB", "Festpreis", "prezzo", "prijs", "cena 300 zł", "2500 kč", "150 lei" (not "ft":
                  # forint, but "6 ft python" is feet; not "cena do" alone: Portuguese "cena do filme" is a scene)
                  r"|\bpreis\b|\bfestpreis\b|\bvb\b|\bprezzo\b|\bprijs\b|\bvraagprijs\b|\bcena\s?:?\s?\d|\bcena do (?:negocjacji|uzgodnienia)\b"
                  r"|\d\s?(?:zł|zl|pln|czk|kč|kc|lei|ron|huf|chf|sek|nok|dkk|fr\.)(?!\w)|\bpaypal (?:freunde|ff|f&f)\b"
                  r"|\b(?:ksh|kshs|tsh|ush|rm|fcfa)\.?\s?\d|\bbei (?:nafuu|poa|ya|kwa|ni|rahisi|inbox|private)\b"
                  r"|\bprix\s?:|\bprix\s?\d|\bprix (?:int[ée]ressant|n[ée]gociable|de gros|en (?:priv[ée]|inbox|mp)|sur demande|[àa] d[ée]battre)\b"
                  r"|\b(?:bon|petit|meilleur) prix\b|টাকা"
                  # a price per piece with no currency ("R350 each", "25k each") and a rate given on asking
                  r"|\d\s?k?\s?(?:each|apiece)\b|\brates? (?:on call|on request|in inbox|inbox|dm|pm)\b"
                  # the sign after the number ("200$ c/u", "95€", "60 £"); cash on the spot (现金结, 现结 but not 出现结果)
                  r"|\d\s?[$€£]|现金结|现结(?![果构束合石晶])|现金交易"
                  # South Asia's own scripts: the price (कीमत, दाम, قیمت, দাম, මිල, விலை), rupees before or after the
                  # number, and "Rs 500" (not कीमती, قیمتی, দামি: precious, valuable)
                  + _whole_words_of("कीमत क़ीमत दाम मूल्य किंमत", "\u0900-\u097f") + _whole_words_of("দাম মূল্য", "\u0980-\u09ff")
                  # Gujarati and Gurmukhi (Punjabi) prices: કિંમત, ભાવ; ਕੀਮਤ, ਮੁੱਲ, ਰੇਟ (not કિંમતી, ਕੀਮਤੀ: precious)
                  + _whole_words_of("કિંમત ભાવ", "\u0a80-\u0aff") + _whole_words_of("ਕੀਮਤ ਮੁੱਲ ਰੇਟ", "\u0a00-\u0a7f")
                  + r"|રૂપિયા|ਰੁਪਏ|ரூபாய்|\d\s?(?:રૂ|ਰੁ)|(?:રૂ|ਰੁ)\.?\s?\d"
                  + r"|\d\s?(?:रुपये|रुपए|रुपया|रुपैयाँ|रु|रू)(?![\u0900-\u097f])|रु(?<![\u0900-\u097f]रु)\.?\s?\d"
                  r"|रू(?<![\u0900-\u097f]रू)\.?\s?\d|قیمت|قيمت|ریٹ|روپے|روپیہ|روپئے|\d\s?روپ"
                  r"|මිල|விலை|\d\s?(?:රු|ரூ)|(?:රු|ரூ)\.?\s?\d"
                  r"|\b(?:rs|inr|pkr|npr|lkr|bdt|tk)\.?\s?\d|\b(?:keemat|kimat|qeemat|qimat|daam)\b"),
        ("quantity", r"\d\s?(?:克|g\b|斤|公斤|kg\b|两|件|只|对|片|颗|枚|根|条|套|盒|瓶|串|pcs\b|pieces?\b|pairs?\b)"
                     r"|\b(?:wholesale|bulk|lot of|in stock)\b|批发|现货|有货|量大|大量|货源|库存|拿货|整批"
                     # minimum orders and stock left: 一两起, 两克起发, 量少, "2 left", "kilo lots", "x3"
                     r"|按克|按两|按斤|论克|起发|起卖|起售|起订|一两起|一斤起|一克起|量少|量很少|少量|有量|仅此一|最后一"
                     r"|\d\s?(?:lbs?|oz|kilos?|tons?|吨)\b|\d\s?(?:[a-z]+\s)?left\b|\bx\s?\d{1,3}\b|\bkilo lots?\b|\bany quantity\b"
                     r"|\bby (?:the )?(?:kg|kilo|gram)\b|\bper (?:kg|kilo|gram|piece|pc)\b|\bcontainers?\b|\blorry\b"
                     # counted pieces in the other markets: "3 peças", "4 pièces", "guda 2", "kilo 40", "10 biji", "el ciento"
                     r"|\d\s?(?:pi[eè]ces|peças|pecas|unidades|unités|vipande|biji|ekor|cái|tola)\b|\b(?:kilo|guda|vipande)\s?\d"
                     r"|\bla (?:douzaine|docena)\b|\bel ciento\b|\bpor kilo\b|\bpar kilo\b|\blotes? de \d"
                     # South Asia's scripts: kilos, grams, tola, pieces, wholesale (थोक, ہول سیل, পাইকারি)
                     r"|\d\s?(?:किलो|ग्राम|तोला|पीस|کلو|گرام|تولہ|تولے|پیس|কেজি|গ্রাম|ভরি|পিস)|थोक|ہول سیل|পাইকারি"
                     # and in Gujarati, Gurmukhi and Tamil: kilos, grams, tonnes
                     r"|\d\s?(?:કિલો|ગ્રામ|ਕਿਲੋ|ਗ੍ਰਾਮ|கிலோ|கிராம்|டன்)"),
        ("contact", r"微信|威信|薇信|v信|vx|wx\b|wechat|加v|加微|\bv[:：]\s?[a-z0-9_]|qq\s?[:：]?\s?\d{5,}|扣扣"
                    r"|telegram|\btg\b|whatsapp|wa\.me|\bline\s?(?:id)?\s?[:：@]|加line|\bsignal\b"
                    r"|\bdm\b|\bpm\b|\binbox\b|message me|text me|私聊|私信|私讯|私发|私我|有意\s?v\b|联系我|电联|详询|咨询"
                    r"|\bzalo\b|\bwassap\b|\bwa\b|\bviber\b|\bkakao\b|电话"
                    r"|1(?<!\d.)[3-9]\d{9}(?!\d)|\+\d{2,3}[\s-]?\d{3,}[\s-]?\d{3,}"
                    r"|\bjapri\b|\bliên hệ\b|\bcontactez\b|\bcontacto\b|\bcontato\b|\bchama no zap\b|\bzap\b"
                    r"|\bwpp\b|\bwsp\b|ทักแชท|ทักมา|สนใจทัก"
                    r"|\bwhats\b|\bwhatsap\b|\bzapzap\b|\b(?:al|por|x|no|pelo|chama no) privado\b|\bmanda (?:mensagem|msg|dm)\b"
                    r"|หลังไมค์|ทักไลน์|\bpm\s?po\b|ဆက်သွယ်|ទាក់ទង"
                    r"|\bpiga simu\b|\bnipigie\b|\bappelez\b|\bappelle[rz]? moi\b|\bkira ni\b|\bbel my\b|\bcall karo\b|\bsampark\b|सम्पर्क"
                    r"|\bpn\b|\bper pn\b|\bna priv\b|\bna pw\b|\bpriv\b|\ben mp\b|\bpar mp\b"
                    # South Asia's scripts: contact, WhatsApp, imo, "call", inbox; Pakistan's, Bangladesh's and India's
                    # mobile numbers (0300-1234567, 01712-345678, 98765 43210)
                    r"|संपर्क|व्हाट्सएप|व्हाट्सऐप|वॉट्सऐप|व्हाट्सअप|कॉल करें|फोन करें|फ़ोन करें|इनबॉक्स"
                    r"|رابطہ|رابطے|واٹس ایپ|واٹس اپ|وٹس ایپ|واٹساپ|کال کریں|فون کریں|ان باکس|انباکس"
                    r"|যোগাযোগ|ইমো(?![\u0980-\u09ff])|হোয়াটসঅ্যাপ|হোয়াটসআপ|ইনবক্স|কল করুন|ফোন করুন|அழைக்கவும்|தொடர்புக்கு|தொடர்பு கொள்ள|අමතන්න"
                    r"|સંપર્ક|વોટ્સએપ|વોટ્સઅપ|ફોન કરો|ਸੰਪਰਕ|ਵਟਸਐਪ|ਵੱਟਸਐਪ|ਫੋਨ ਕਰੋ|ਫ਼ੋਨ ਕਰੋ|फोन करा|வாட்ஸ்அப்|வாட்ஸ் அப்"
                    r"|\d(?<!\d\d)(?<=0)3\d{2}[\s-]?\d{7}(?!\d)|\d(?<!\d\d)(?<=0)1[3-9]\d{2}[\s-]?\d{6}(?!\d)"
                    r"|\d(?<![\d-]\d)(?<=[6-9])\d{4}[\s-]?\d{5}(?!\d)"),
        # invitations to get in touch (no channel named): 懂的来, 有意者, 要的扣1, 留言, "serious buyers only", "lmk"
        ("invite", r"(?:懂的|懂得|有意|需要|要的|价|价格|有需要|有要的)\s?私(?![人家房立营有自下生密事])|私$"
                   r"|懂的来|懂行来|懂行的来|懂的进|懂的都懂|懂得都懂|识货的来|喜欢的来|要的来|需要的来|有意者|有意的"
                   r"|有需要的|需要的朋友|有要的|要的扣|要的吱|要的留言|留言|扣1|吱一声|滴滴|v我|加我|找我|后台"
                   r"|有缘人|有缘出|非诚勿扰|视频看货|视频验货|可视频|看货|验货|看实物|实地看"
                   r"|\bserious (?:only|buyers?|inquir\w*|enquir\w*|collectors?)\b|\bcollectors only\b|\bbuyers only\b"
                   r"|\bwho wants\b|\banyone (?:want|need)s?\b|\bwho has\b|\bwho get\b|\bping me\b|\blmk\b|\bhmu\b|\bib\b"
                   r"|\bmsg\b|\bmessage (?:me|for)\b|\bcontact (?:me|us)\b"
                   r"|\bcall (?:me|now)\b|\bvideo call\b|\bpics on request\b|\bsend pics\b|\benquir\w*|\binquir(?:e|ies)\b"
                   r"|\bcall[.!]?$|\b(?:call|contact)(?: me)? (?:quickly|fast|asap|urgently)\b"
                   r"|\bbei interesse\b|\bbij interesse\b|\binteressati\b|\bzainteresowan\w*|\bzapraszam\b|\bmeldet? (?:dich|euch)\b"
                   r"|\bscriv(?:imi|etemi)\b|\bcontatta(?:mi|temi)\b|\bpiszcie\b|\bpisać\b"),
        ("shipping", r"包邮|顺丰|发货|快递|邮寄|同城|面交|自提|代购|出国|\bship(?:s|ping|ped)?\b|\bpostage\b"
                     r"|\bdelivery\b|\bcash on delivery\b|\bcod (?:ok|available|only|accepted)\b|\bworldwide\b|\bpick ?up\b|\bmeet ?up\b"
                     r"|物流|可寄|可发|发全国|交收|线下|当面|自取|\bdeliver(?:s|ed|y)?\b|\bcan deliver\b|\bpick-up\b"
                     r"|\bcollection only\b|\bself[\s-]collect\b|\bcollect only\b|\bcash (?:&|and) collect\b"
                     r"|\bcan meet\b|\bmeet (?:halfway|in person)\b|\bposted to\b|\bexport\b|\bdhl\b|\bems\b"
                     r"|\bgiao\b|\bkirim\b|\bsend to\b|ส่ง"
                     r"|\benv[ií]os?\b|\benviamos\b|\blivraison\b|\bentreg(?:a|as|o|amos)\b|\bcorreios\b|\bsedex\b"
                     r"|\bongkir\b|\bcod\b(?= ?(?:ok|bisa|available))|\bkerry\b|\bj&t\b|\bjne\b|\bninja van\b|\bremise en main propre\b"
                     r"|\bversand\b|\bspedizione\b|\btunasafirisha\b"
                     r"|\bversandkosten\b|\bverschicke\b|\bversende\b|\babholung\b|\bselbstabholung\b|\bspedisco\b|\bspedizioni\b"
                     r"|\britiro a mano\b|\bconsegna a mano\b|\bverzend\w*|\bophalen\b|\bwysy[łl]k\w*|\bwysy[łl]am\b|\bodbi[óo]r\b"
                     r"|\bpaczkomat\w*|\binpost\b|\bz[áa]silkovn\w*|\bosobn[íi] odb[ěe]r\b|\btrimit\b|\bcurier\b|\bportes (?:incluidos|pagados|gratis|aparte|a cargo)\b|\bpostnl\b"
                     r"|\bencomienda\b|\bpaqueter[ií]a\b|\bestafeta\b|\bfrete\b|\bretirada\b"
                     r"|\bcarta registrada\b|\bmando (?:pra|pelo|por|p/|al|a todo)\b|\bpos laju\b"
                     r"|\blalamove\b|\bkargo\b|\bje livre\b|\blivrons\b|\bexp[ée]dition\b|\bcourier\b"
                     r"|\bposting (?:within|to|available|included|extra|anywhere|worldwide|only)\b|\bcan post\b|\bwill post\b"
                     r"|\bpor correo\b|\bpelo correio\b|可上门|上门收|上门取"
                     # South Asia's scripts: delivery, courier
                     r"|डिलीवरी|डिलिवरी|कूरियर|कुरियर|ڈیلیوری|ڈلیوری|کوریئر|کورئیر|کوریر|ডেলিভারি|কুরিয়ার"),
        ("negotiation", r"可议|议价|小刀|可刀|面议|价格美丽|诚心要|诚意|\bobo\b|\bono\b|\bnego\b|best offer"
                        r"|\bfirm\b|or best|make (?:an |me an )?offer"
                        r"|面谈|电话谈|详谈|可谈|可以谈|好商量|不议|不讲价|便宜走|便宜处理|清仓|亏本|急用钱|急走|打包走"
                        r"|先到先得|\bquick sale\b|\bneg\b|\bnegotiable\b|\bprivate deal\b|\bno questions asked\b"
                        r"|\bfirst come\b|\bmust go\b|\bneeds? (?:it )?gone\b"
                        r"|\bnegociable\b|\bnegoci[áa]vel\b|\bà débattre\b|\bbisa tawar\b|\btawar\b|\bthương lượng\b"
                        r"|ต่อรอง|\bmaelewano\b|\bprix discut[ée]\b|\bà discuter\b|\bmol bhav\b"
                        r"|\bverhandelbar\b|\bverhandlungsbasis\b|\btrattabil[ei]\b|\bbieden\b|\bdo negocjacji\b|\bdo uzgodnienia\b"
                        r"|\bdohodou\b|\bnegociabil\b|\bno perditempo\b|\bkeine (?:garantie|r[üu]cknahme)\b|\btausch\b"),
        ("sell", r"^出\s?|^收\s?|^转(?![发载帖自给告变身换眼移折向播达型化])\s?|出售|转让|售卖|低价出|便宜出|急出|急售|求购|回收|高价收|长期收|收购|代售"
                 r"|\bfor sale\b|\bwts\b|\bwtb\b|\bselling\b|\bsell\b|\bbuying\b|\bwant to buy\b|\bavailable\b"
                 r"|\bbuy now\b|\bfs\b|\bbin\b|\bauction\b|\blot\s?#?\d|\bbid\b|\bstarting bid\b"
                 # 出/收 inside a line (两瓶出, 只出懂的人, 成吨收), wanted ads, sale words of other languages
                 r"|(?:有缘|打包|一对|一起|整车|整批|批量|便宜|清|只|诚)出|出(?:一|两|几|\d)\s?(?:只|对|个|件|条|张|根|批|块|副|瓶|颗|盒|套|串|支)"
                 r"|出货|出手|[\u4e00-\u9fff](?<![日演外推支退提发指付输产杰突超播展卖看进凸溢排释派喷逃选取拔露做说想拿长冒列])出$|求收|都收|全收|诚收|大量收|成吨收|收老|收走|出让|割爱|带走"
                 r"|\bwanted\b|\biso\b|\bseek(?:s|ing)\b|\bup for grabs\b|\bfor grab\b|\bfor trade\b|\bsold as is\b"
                 r"|\bestate (?:sale|clearance)\b|\bclearance\b|\brehoming\b|\bjual\b|\bdijual\b|\bbán\b|ขาย"
                 # sale words of the Spanish, Portuguese, French, Vietnamese, Indonesian/Malay and Swahili markets
                 r"|\bvend(?:o|e|emos|em)\b|\bse vende\b|\bvende-se\b|\bà venda\b|\ba venda\b|\bà vendre\b|\ba vendre\b"
                 r"|\bvends\b|\bdisponibles?\b|\bdispo\b|\bcần bán\b|\bthanh lý\b|\bpass lại\b|\bready stock\b"
                 r"|\bada stok\b|\binauzwa\b|\bnauza\b|\btunauza\b|\bninauza\b|\bmzigo\b|ขายด่วน|พร้อมส่ง"
                 r"|\bverkauf(?:e|en)?\b|\bvendesi\b|\bin vendita\b"
                 # German, Italian, Dutch, Polish, Czech and Slovak, Romanian, Hungarian sale and wanted words
                 r"|\bbiete\b|\bsuche\b|\bkaufe\b|\bankauf\b|\bprivatverkauf\b|\bcerco\b|\bacquisto\b"
                 r"|\bverkoop\b|\bgevraagd\b|\bsprzedam\b|\bsprzeda[żz]\b|\bodsprzedam\b|\bkupi[ęe]\b|\bprod[áa]m\b|\bpred[áa]m\b"
                 r"|\bkoup[íi]m\b|\bk[úu]pim\b|\bv[âa]nd\b|\bv[âa]nzare\b|\bcump[ăa]r\b|\belad[óo]\b|\bprodajem\b"
                 # wanted and wholesale in Spanish/Portuguese; Tagalog, Afrikaans, Hausa; Khmer, Burmese, Lao "sell"
                 r"|\bcompro\b|\bcompramos\b|\bcompra-se\b|\bse venden\b|\bvendem-se\b|\ben venta\b|\bpor mayor\b|\bmayoreo\b"
                 r"|\bbinebenta\b|\bbenta\b|\bte koop\b|\bna sayarwa\b|\bchốt đơn\b|\bxả hàng\b|\bdicari\b"
                 # French, Swahili, romanised Hindi/Urdu, Bengali and Nepali: "vente", "zinauzwa", "bikau", "পাওয়া যাচ্ছে"
                 r"|\bvente\b|\bà céder\b|\ba ceder\b|\bzinauzwa\b|\binapatikana\b|\bzinapatikana\b|\bnatafuta\b"
                 r"|\bbikau\b|\bbechna\b|\bbechne\b|\bmilenge\b|বিক্রি|পাওয়া যাচ্ছে|পাওয়া যাবে|बिक्री"
                 r"|លក់|ရောင်း|ຂາຍ"
                 # South Asia's own scripts: for sale, selling, available, want to buy (Hindi and Nepali, Urdu, Bangla,
                 # Sinhala, Tamil), and romanised Urdu's "barae farokht"
                 r"|बिकाऊ|बेच(?:ना|ने|ता|ती|ते|ूंगा|ेंगे|्न)|उपलब्ध(?!ि)|खरीदना|खरीदने|पाइन्छ"
                 r"|فروخت|دستیاب|بیچنا|بیچنے|خریدنا|خریدار|বিক্রয়|কিনতে চাই|විකිණීමට|විකුණන්න|விற்பனை"
                 # Gujarati, Punjabi (Gurmukhi and Shahmukhi), Marathi and Tamil: sell, for sale, available
                 r"|વેચવા|વેચાણ|વેચું છું|વેચીએ છીએ|ਵਿਕਾਊ|ਵੇਚਣ|ਵਿਕਰੀ|وکاؤ|ویچن|विक्री|विकणे|विकायच|विकायला"
                 r"|விற்க|கிடைக்கும்"
                 r"|\bbara[ey]?e? fa?rokht\b|\bfarokht\b|\bfrokht\b|\bdastiyab\b|\bdastyab\b"),
        # the seller says the papers are missing: the opposite of documented legal trade
        ("undocumented", r"\bno (?:cites|papers?|paperwork|permits?|docs|documents?|certs?|certificates?|ring|band"
                         r"|chip|microchip|licen[cs]e|surat)\b|\bwithout (?:papers|permits?|cites|paperwork|documents)\b"
                         r"|\bunringed\b|\bnot ring(?:ed)?\b|\bnot rung\b|\bunbanded\b|\bno questions\b"
                         r"|无证|没有证|没证|无手续|没有手续|手续就算了|无标识|没有标识|不带环|无环|没有环|无脚环|无芯片"
                         r"|没有芯片|不带证|无证书|没有证书|无单"
                         r"|\bsin (?:papeles|documentos|permisos?|anillos?|factura|cites|gu[ií]a|cintillo|registro|sello|gtf)\b|\bsans (?:papiers?|certificats?|cites)\b"
                         r"|\bpas de papiers?\b|\bsem (?:papel|papéis|documentos?|docs?|documenta[cç][aã]o|nota|anilha|argola|ibama|licen[cç]a|registro|gta|guia|lacre|selo)\b"
                         r"|\bnão tem (?:nota|anilha|papel)\b|\btanpa (?:surat|dokumen|sertifikat|cites|izin)\b"
                         r"|\bkhông (?:có )?giấy\b|ไม่มีใบ|\bhakuna (?:kibali|vibali|karatasi)\b"
                         r"|\bohne (?:papiere|cites|nachweis|dokumente|zertifikat|ring|ringe|beringung|herkunftsnachweis|vermarktungsgenehmigung"
                         r"|eu-bescheinigung)\b|\bsenza (?:documenti|certificato|cites|anello|carte|documentazione)\b"
                         r"|\bno hay gu[ií]a\b|\bwalang (?:papers?|permit|dokumento)\b|\bkhong giay\b|ไม่มีเอกสาร"
                         r"|\bpas besoin de papiers?\b|\bpas de (?:cites|permis|certificat)\b|\bno tiene (?:cites|papeles|certificado|gu[ií]a)\b"
                         r"|\b(?:tiada|takde|tak ada|tanpa) (?:sijil|cip|permit|lesen)\b|\bgeen (?:permit|permitte|papiere|sertifikaat)\b"
                         r"|\bbina (?:kagaz|kaagaz|license|licence|permit|papers?)\b"
                         # "I don't have any certificates", "doesn't come with papers" (one branch per verb, each led by
                         # its word, so the marker scan finds it by that word)
                         + "".join(rf"|\b{verb}\s(?:have\s|has\s|come with\s)?(?:any\s)?(?:papers?|paperwork|permits?|cites"
                                   r"|certs?|certificates?|documents?|docs|registration|licen[cs]e)\b"
                                   for verb in ("don'?t", "doesn'?t", "didn'?t", "haven'?t", "hasn'?t", "do not",
                                                "does not", "did not", "have not", "has not"))
                         # Europe's "without papers" (ohne and senza above): zonder papieren, bez dokumentów, fără acte
                         + r"|\bzonder (?:papieren|papiers|cites|ring|certificaat|documenten)\b"
                         r"|\bbez (?:papier[óo]w|dokument[óo]w|cites|certyfikatu|obr[ąa]czki|papír[ůu]|dokladů|dokladu)\b"
                         r"|\bf[ăa]r[ăa] (?:acte|documente|cites)\b|\bpapír n[ée]lk[üu]l\b"),
    ),
    "mention": (
        ("enforcement", r"查获|缴获|截获|查扣|扣押|被捕|落网|破获|侦破|抓获|逮捕|刑拘|判处|判决|有期徒刑|获刑|起诉|公诉|立案|案件"
                        r"|判监|判囚|监禁|入狱|服刑|被判"
                        r"|警方|公安|海关|渔护署|森林警察|违法|犯法|举报"
                        r"|缉私|执法|打击|走私案|非法收购|非法出售|涉嫌|罚款|没收"
                        r"|\bseiz(?:ed|ure|ures|es)\b|\bconfiscat\w*|\barrest\w*|\bsentenc\w*|\bjail\w*|\bprison\b"
                        r"|\bconvict\w*|\bprosecut\w*|\bcharged\b|\bcourt\b|\bcustoms\b|\bpolice\b|\bauthorities\b"
                        r"|\bsmuggl\w*|\bcrackdown\b|\bintercepted\b|\bpoach(?:ing|ers?|ed)\b|\bsting operation\b"
                        r"|\bfined\b|\bfines\b|\bguilty\b|\bpleaded\b|\bverdict\b|\bindicted\b|\bon trial\b"
                        # the languages of the lexicon's other Latin-script names (es, fr, pt, de, vi, id/ms, tl, sw)
                        r"|\bincauta\w*|\bdecomis\w*|\bdetenid[oa]s?\b|\bcontrabando\b|\bprofepa\b|\bapreen[sd]\w*"
                        r"|\bsaisi(?:e|es|s)?\b|\binterpell\w*|\bdouanes?\b|\bbraconn\w*|\bbeschlagnahm\w*|\bfestgenommen\b"
                        r"|\bbắt giữ\b|\bthu giữ\b|\btịch thu\b|\bvi phạm\b|\bkhởi tố\b|\bxét xử\b|\bbuôn lậu\b|\bhải quan\b"
                        r"|\bdisita\b|\bditangkap\b|\bpenyitaan\b|\bpenyelundupan\b|\bbksda\b"
                        r"|\bnahuli\b|\bnasabat\b|\binaresto\b|\bkinumpiska\b"
                        r"|\bzakamatwa\b|\bkukamatwa\b|\bwamekamatwa\b|\bamekamatwa\b|\bwalikamatwa\b|\balikamatwa\b|\bimekamatwa\b|\bmahakama\w*|\bujangili\b|\bkws\b"
                        r"|\bbat giu\b|\bthu giu\b|\btich thu\b|\bkhoi to\b|\bbuon lau\b|\bhai quan\b|\bbi bat\b"
                        r"|\bbị bắt\b|\bbắt quả tang\b|\bđối tượng\b|จับกุม|ยึดของกลาง|ของกลาง|ผู้ต้องหา|\bdiamankan\b|\bditahan\b"
                        r"|\bpolisi\b|\bperhilitan\b|\bpolic[ií]a\b|\bgendarmerie\b|\bdémantel\w*|\baduana\b|\balfândega\b"
                        r"|\btạm giữ\b|\btam giu\b|\bibama\b(?= (?:apreend|resgat|multa|fiscaliz))"
                        # South Asia: arrested / recovered (romanised Hindi-Urdu, Bangla, Nepali)
                        r"|\bgiraftar\w*|\bbaramad\b|গ্রেপ্তার|গ্রেফতার|জব্দ|पक्राउ|\bpakrau\b|गिरफ्तार|बरामद|\bdirampas\b"
                        # Europe: der Zoll (not "27 Zoll", inches), sequestro, in beslag genomen, zatrzymano, Guardia di Finanza, SEPRONA, OFB
                        r"|\b(?:der|dem|vom|beim) zoll\b|\bzoll(?:fahnd\w*|beamt\w*|amt|beh[öo]rde\w*)\b|\bverhaftet\b|\bangeklagt\b|\bverurteilt\b|\bsequestr\w*|\bguardia di finanza\b"
                        r"|\bcarabinieri\b|\barrestat[oiae]\b|\bdenunciat[oiae]\b|\bin beslag genomen\b|\binbeslagname\b|\bpolitie\b"
                        r"|\bpolicja\b|\bzatrzyma\w*|\bskonfiskowa\w*|\bseprona\b|\bguardia civil\b|\bofb\b"
                        # South Asia's scripts: seized, smuggler/smuggling, forest department, police, rescued
                        r"|जब्त|ज़ब्त|तस्कर|वन विभाग|पुलिस|گرفتار|گرفتاری|گرفتاریاں|برآمد|ضبط|پولیس|اسمگل|سمگل|محکمہ جنگلی حیات"
                        r"|পাচার|উদ্ধার|পুলিশ|বন বিভাগ|\btaskar\w*|\bzabt\b"
                        # and in Gujarati, Gurmukhi, Tamil and Marathi; "crime", "illegal" in South Asia's scripts
                        r"|જપ્ત|ધરપકડ|વન વિભાગ|પોલીસ|દાણચોર|ਗ੍ਰਿਫਤਾਰ|ਗ੍ਰਿਫ਼ਤਾਰ|ਬਰਾਮਦ|ਜ਼ਬਤ|ਜਬਤ|ਪੁਲਿਸ|ਜੰਗਲਾਤ ਵਿਭਾਗ|ਤਸਕਰ"
                        r"|கைது|பறிமுதல்|வனத்துறை|காவல்துறை|கடத்தல்|जप्त|वनविभाग"
                        r"|अपराध|अवैध|गैरकानूनी|ग़ैरकानूनी|غیر قانونی|جرم(?![\u0600-\u06ff])|অপরাধ|অবৈধ|ગુનો|ગેરકાયદે|ਜੁਰਮ|ਗੈਰ-ਕਾਨੂੰਨੀ"
                        r"|ਗ਼ੈਰ-ਕਾਨੂੰਨੀ|சட்டவிரோத"),
        ("advocacy", r"保护|拒绝|抵制|禁止|禁令(?!前)|禁售|濒危|灭绝|濒临|公益|倡议|呼吁|宣传|没有买卖就没有杀害|野生动物保护法|提醒|转发(?<!欢迎转发)"
                     r"|\bsay no\b|\breminder\b|\bbelongs? on\b|#[a-z\u4e00-\u9fff]{3,}(?![\d-])|\bwildaid\b|\biucn\b"
                     r"|\bprotect(?:ion\w*|ed|ing|s)?\b|\bconserv(?:ation\w*|ancy|es?)\b|\bendangered\b|\bextinct\w*|\bban(?<!pre-ban)(?<!pre ban)(?:s|ned)?\b|\bcampaign\b"
                     r"|\bpetition\b|\bsave the\b|\bstop the\b|\bawareness\b|\bwildlife day\b|\bsanctuary\b"
                     r"|\brescue[ds]?\b|\bdonat\w*|\bngo\b|\bwwf\b|\btraffic\b|\bcites\b(?<!no cites)(?<!without cites)(?<!sin cites)(?<!sans cites)(?<!sem cites)(?<!ohne cites)"
                     r"(?!\s*(?:permit|paper|cert|papier|dokument|docu|bescheinigung|zertifikat|certyfikat))"
                     r"|\bkhuyến cáo\b|\bbảo tồn\b|\bpeligro de extinción\b|\bconservación\b(?<!estado de conservación)|\bkonservasi\b|\buhifadhi\b"
                     r"|\bartenschutz\w*|\bwilderei\b|\bwilderer\b|\bvom aussterben\b|\bbracconaggio\b|\bbracconier[ei]\b"
                     r"|\bin via di estinzione\b|\bstroperij\b|\bstropers\b|\bk[łl]usownic\w*|\bgatunk\w* zagro[żz]on\w*"
                     r"|\besp[èe]ces? (?:menac[ée]es?|prot[ée]g[ée]es?)\b"
                     # South Asia's scripts: conservation, endangered, extinct
                     r"|संरक्षण|लुप्तप्राय|विलुप्त|تحفظ|معدوم|نایاب نسل|সংরক্ষণ|বিলুপ্ত|বিপন্ন|સંરક્ષણ|ਸੰਭਾਲ|அழிந்து வரும்"),
        ("news", r"新闻|报道|记者|据悉|日电|消息|发布|通报|纪录片|研究|专家|调查|报告|谣言|辟谣|科普|\bnews\b|\breport\w*\b"
                 r"|\bpodcast\w*|\bepisode\b|\bwebinar\b|\bvolunteer\w*|播客|志愿者"
                 r"|\bdoc\b|\bnetflix\b|\barticle\b|\bmyth\b"
                 r"|\bjournalist\b|\bdocumentary\b|\bstudy\b|\bresearch\w*\b|\bscientists?\b|\binvestigation\b"
                 r"|\binforme\b|\binvestigador(?:es|as?)?\b|\bpesquisador(?:es|as?)?\b|\bperiodista\b|\bjornalista\b"
                 r"|\bedukasi\b|\bbukan jualan\b|\bbkn jualan\b"
                 # scam warnings: "cuidado, golpe", "é golpe", "estafadores"
                 r"|\bcuidado,? golpe\b|\bé golpe\b|\be golpe\b|\bgolpistas?\b|\bestafadores?\b"
                 r"|\bstudie\b|\bforscher\w*|\bdokumentation\b|\bricercator[ie]\b|\bonderzoek\w*|\bbadacz\w*|\breportage\b|\benqu[êe]te\b"),
        # "有要的吗", "有人要吗": a seller asking who wants it, not a question about the trade
        ("question", r"吗(?<!要的吗)(?<!人要吗)[?？]?$|吗(?<!要的吗)(?<!人要吗)[?？]|是否|能不能|可以.{0,6}吗|怎么(?:辨别|区分|看|鉴别|分辨)|如何(?:辨别|区分|鉴别)|合法吗|违法吗"
                     r"|有没有人|求科普|[?？؟]\s*$|\bis it legal\b|\bhow (?:do|can|to) (?:i |you )?tell\b|\banyone know\b"
                     r"|\bcan i\b|\bis this\b.{0,40}\?|\bwhat is\b|\bwhy\b"),
    ),
    "depiction": (
        ("motif", r"图案|印花|花纹|纹样|造型|形状|款式|元素|主题|卡通|动漫|q版|手绘|刺绣|logo|图标|周边|联名"
                  r"|\bprint(?:ed)?\b|\bpattern\w*\b|\bmotif\b|\bshaped\b|\bdesign\b|\bgraphic\b|\bembroider\w*"
                  r"|\bcartoon\b|\blogo\b|\bthemed?\b|\bstyle\b|\binspired\b"
                  # the other markets' prints and designs: "estampado de tigre", "estampa de onça", "inspirado en"
                  r"|\bestampad[oa]s?\b|\bestampas?\b|\binspirad[oa]\b|\bdise[ñn]o\b|\bmotivo\b"
                  # Europe's prints and looks: Muster, Optik ("Schildpatt-Optik"), Druck, stampa, effetto, motief, wzór, nadruk
                  r"|\bmuster\b|\boptik\b|\bdruck\b|\bstampa\b|\beffetto\b|\bmotief\b|\bwz[óo]r\w*|\bnadruk\w*"),
        ("merchandise", r"玩偶|公仔|毛绒|抱枕|玩具|积木|手办|模型|贴纸|海报|挂画|装饰画|明信片|邮票|冰箱贴|钥匙扣|t恤|卫衣"
                        r"|睡衣|袜子|手机壳|水杯|马克杯|绘本|图书|书籍|小说|漫画|杂志|画册|拼图|贴画|胸针|徽章|文创|纪念品"
                        r"|\bplush\w*|\btoys?\b|\bfigurines?\b|\bfigure\b|\bstatue\b|\bsticker\w*|\bposter\w*|\bdecal\w*"
                        r"|\bt-shirt\w*|\btshirt\w*|\bhoodie\b|\bmug\b|\bkeychain\b|\bphone case\b|\bbook\b|\bnovel\b|\bcomic\w*"
                        r"|\bstamps?\b|\bpostcard\w*|\bpuzzle\b|\bpins?\b|\bbadge\b|\bsouvenir\w*|\bornament\b"
                        r"|\bcostume\b|\bmascot\b|\bpainting\b|\bart print\b|\bcanvas\b|\bwallpaper\b|\bresin\b"
                        # a wooden figure, not an ivory one on a wooden stand
                        r"|\bwooden\b(?! (?:stand|base|box|case|display|plinth|mount|frame))|\bteak\b|\bcarved wood\b"
                        r"|\bwood carving\b|\bem madeira\b|\ben madera\b"
                        # plush, toys, figures, mugs, key rings, shirts, stickers, books in Spanish, Portuguese,
                        # Indonesian/Malay and Vietnamese
                        r"|\bpeluches?\b|\bjuguetes?\b|\bfiguritas?\b|\bfiguras? de\b|\bllaveros?\b|\bplayeras?\b|\btazas?\b"
                        r"|\bcalcoman[ií]as?\b|\bcobijas?\b|\bdisfraz\b|\bpel[úu]cias?\b|\bbrinquedos?\b|\bchaveiros?\b"
                        r"|\bcanecas?\b|\badesivos?\b|\bfantasia\b|\bcamisetas?\b|\bboneka\b|\bmainan\b|\bgantungan kunci\b"
                        r"|\bstiker\b|\bkaos\b|\bgấu bông\b|\bđồ chơi\b|\bmóc khóa\b|\báo thun\b|\bhình dán\b"
                        # German, Italian, Dutch, Polish and French plush, toys, key rings, mugs and books (not "Figur",
                        # "statuetta", "beeldje": a carved figure is what an ivory antique most often is; not "livre":
                        # "je livre à Douala" is a delivery)
                        r"|\bpl[üu]sch\w*|\bkuscheltier\w*|\bstofftier\w*|\bspielzeug\w*|\bschl[üu]sselanh[äa]nger\b|\btasse\b"
                        r"|\bbuch\b|\bgiocattol[oi]\b|\bportachiavi\b|\btazza\b|\blibro\b|\bpupazz[oi]\b"
                        r"|\bknuffel\w*|\bspeelgoed\b|\bsleutelhanger\b|\bboek\b|\bplusz\w*|\bmaskotk\w*|\bzabawk\w*"
                        r"|\bbrelok\w*|\bkubek\b|\bksi[ąa][żz]k\w*|\bjouets?\b|\bporte-cl[ée]s\b"
                        # South Asia's scripts: toy, plush, poster, sticker
                        r"|खिलौना|खिलौने|पोस्टर|स्टिकर|کھلونا|کھلونے|پوسٹر|اسٹیکر|খেলনা|পোস্টার|স্টিকার"),
        ("name", r"球队|队|粉丝|外号|昵称|绰号|演唱会|乐队|\bteam\b|\bfans?\b|\bnickname\w*|\bjersey\b|\bseason\b"
                 r"|\bgame\b|\bmatch\b|\bbrand\b|\bband\b|\balbum\b|\bsong\b|\bmovie\b|\bfilm\b|\bseries\b"
                 r"|\bvinyl\b|\bconcert\b|\blive in\b|\bwin\b|\bwins\b|\bplayoffs?\b"),
        ("sighting", r"拍到|偶遇|观鸟|野外|动物园|保护区|放生|救助|\bspotted\b|\bsighting\w*|\bbirding\b"
                     r"|\bbirdwatch\w*|\bsafari\b|\bzoo\b|\bin the wild\b|\bphotograph\w*|\bnational park\b"
                     r"|\bwildlife photography\b"),
    ),
    "legal": (
        ("captive_bred", r"人工繁育|人工养殖|人工繁殖|人繁|繁殖场|养殖场|繁育基地|驯养繁殖|自繁|家繁|cb\s?\d{2}|\bcb\b"
                         r"|captive[\s-]?(?:bred|born|raised)|\bbred by\b|\bbreeder\b|\bfarmed\b|\bfarm[\s-]raised\b"
                         r"|\bpenangkaran\b|\bbudidaya\b|\bcriadero\b|\bcriado em cativeiro\b|\bélevage\b|\bnachzucht\b"
                         r"|\bcriad[oa]s? en (?:uma|criadero|cautiverio)\b|\bnacid[oa]s? en (?:uma|criadero|cautiverio)\b"
                         r"|\bhatchling\w*\b.{0,30}\b(?:bred|hatched)\b|\bhome[\s-]?bred\b"
                         # plants raised, not collected; Brazil's and Spain's licensed breeders
                         r"|\bseed[\s-]grown\b|\bnursery[\s-](?:grown|propagated)\b|\bartificially propagated\b"
                         r"|\btissue[\s-]cultur\w*|\bcriadouro\b|\bcriadero autorizado\b"
                         # "nascido no meu criatório", "de criador", "de criadero": bred, not taken from the wild
                         r"|\bcriat[óo]rio\b|\bde criador\b|\bde criadero\b"
                         # Europe's own breeding: Nachzucht(en), eigene Zucht, eigen kweek, nato in cattività, z hodowli
                         r"|\bnachzuchten\b|\beigene zucht\b|\beigen kweek\b|\bkweker\b|\bnat[oi] in cattivit[àa]\b"
                         r"|\bda allevamento\b|\ballevatore\b|\bz hodowli\b|\bhodowla\b|\bodchov\b"),
        ("papers", r"证件齐全|手续齐全|许可证|经营利用|合法来源|专用标识|溯源|检疫证|芯片|脚环|闭环|备案|证书齐全|有证"
                   r"|已登记|依法登记|依法申请|合法转让|林务署|登记证"
                   r"|\bbersertifikat\b|\bsertifikat\b|\bcertificado\b|\bcertifi[ée]\b|\bpermiso\b|\blicença\b|\bbescheinigung\b"
                   r"|\bcon papeles\b|\bcom documentos\b|\bavec papiers\b|\bregistrad[oa] ante\b|\bsemarnat\b|\bcon factura\b"
                   r"|\bpermits?\b|\bpaperwork\b|\bpapers\b|\bcertificat\w*|\bcites (?:permit|paper|cert)\w*"
                   r"|\barticle 10\b|\ba10\b|\bclosed[\s-]?ring\w*|\bbanded\b|\bmicrochip\w*|\blicen[cs]ed\b"
                   r"|\bdocumented\b|\blegal(?:ly)? (?:imported|sourced|acquired|owned)\b"
                   r"|\bphytosanitary\b|\banilhad[oa]s?\b|\bcom anilha\b|\bnota fiscal\b|\bautorizad[oa] pelo ibama\b"
                   # Brazil's register of bird keepers and its closed rings; "com NF" (with the invoice)
                   r"|\bsispass\b|\banilha (?:original|fechada|oficial)\b|\bcom (?:nf|nota)\b"
                   # Europe's papers and rings: EU-Bescheinigung, Vermarktungsgenehmigung, mit Papieren, con documenti,
                   # met papieren, z dokumentami, beringt / geringd / inanellato / obrączkowany
                   r"|\beu-bescheinigung\b|\bvermarktungsgenehmigung\b|\bcites[\s-]?(?:papiere|dokument\w*|bescheinigung)\b"
                   r"|\bmit (?:papieren|cites|nachweis|ring)\b|\bcon (?:documenti|certificato|cites|anello)\b|\bcertificato cites\b"
                   r"|\bmet (?:papieren|cites|ring|certificaat)\b|\bz (?:dokumentami|papierami|certyfikatem|cites|obr[ąa]czk[ąa])\b"
                   r"|\b(?:geschlossen )?beringt\b|\bgeringd\b|\bgesloten ring\b|\binanellat[oiae]\b|\bobr[ąa]czkowan\w*"
                   # South Asia's scripts: licence, certificate, permit
                   r"|लाइसेंस|प्रमाणपत्र|प्रमाण पत्र|لائسنس|سرٹیفکیٹ|پرمٹ|লাইসেন্স|পারমিট"),
    ),
}


# Labels found by code rather than a pattern: "offer:handle" is a contact handle that
# classifier.handles decoded from a disguise (一三八…, 微 信 ⑤⑥…) the contact markers miss.
_EXTRA_LABELS = {"offer": ("handle",)}
# extract_handles costs about 0.3 ms a text, so it runs only where a disguised handle could be:
# no contact marker found, and a run of seven digits in any script (Chinese numerals too) with at
# most three separators between them, or an @ / (at).
_DIGITISH = "0-9０-９〇零一二三四五六七八九壹贰叁肆伍陆柒捌玖幺两①-⑨"
_HANDLE_HINT = re.compile(f"[{_DIGITISH}](?:[^{_DIGITISH}a-z\u4e00-\u9fff]{{0,3}}[{_DIGITISH}]){{6}}|@|\\(at\\)|\\[at\\]")


# "not", "without" and their words in the markets' other Latin-script languages ("sin", "sans", "pas de", "sem",
# "não", "nem", "ohne", "kein", "nicht", "senza", "tanpa", "bukan", "tidak", "không phải"): one list for the two
# readers of a denial, classifier.rules.is_negated (a term or lookalike: "not ivory", "bukan resin") and _denied
# below (a legal, depiction or sale marker).  Whole words only ("now for sale", "since 1950" deny nothing); not
# "ni" (Swahili "is": "ni pembe za ndovu"); "pas" only before an article (Indonesian "harga pas": a fixed price);
# "no" not before a Portuguese possessive ("nascido no meu criatório": in my breeder's).
NEGATION_WORDS_LATIN = (r"\b(?:not|no(?!\s(?:meu|minha|meus|minhas|nosso|nossa|seu|sua)\b)|isn'?t|non|never|cannot"
                        r"|(?:don|doesn|didn|haven|hasn|hadn|can|won|aren|wasn|weren)'t|dont|doesnt|didnt|havent|hasnt|without|nor|sin|sans|pas(?=\s+(?:de|du|des|d'|l'|la|le|en)\b)"
                        r"|sem|não|nao|nem|ohne|keine?[nmrs]?|nicht|senza|tanpa|bukan|tidak|không(?: phải)?|hindi|walang)\b")
# "no permit", "无证", "without papers": a legal marker the text denies is not documented trade
# (the "undocumented" offer marker names it instead); "not resin", "bukan resin", "不是树脂": a depiction
# marker the text denies is the seller saying the item is *not* merchandise or a lookalike; "no son de
# criadero" (not from a breeder): the "not" may stand up to two words before the marker, a hyphenated one too
# ("ohne EU-Bescheinigung", "without CITES-papers": the papers are denied, not named).
_DENIED_BEFORE = re.compile(rf"(?:{NEGATION_WORDS_LATIN}|无|没有|没|不带|未|缺|不是|并非|非)\s?(?:[^\W\d_]+[\s-]){{0,2}}$")
# ... and "not for sale", "not selling", "非卖": a sale marker the text denies is no offer of sale.
_DENIABLE = frozenset({"legal", "depiction"})
_DENIABLE_LABELS = frozenset({("offer", "sell")})


def _denied(key: tuple[str, str], text: str, start: int) -> bool:
    return ((key[0] in _DENIABLE or key in _DENIABLE_LABELS)
            and _DENIED_BEFORE.search(text, max(0, start - 16), start) is not None)


def signal_labels(family: str) -> tuple[str, ...]:
    """The labels of one family, in a fixed order (feature columns depend on it)."""
    return tuple(label for label, _ in _PATTERNS[family]) + _EXTRA_LABELS.get(family, ())


def _may_hold_handle(text: str) -> bool:
    return _HANDLE_HINT.search(text) is not None


SIGNAL_LABEL_ORDER = tuple((family, label) for family in SIGNAL_FAMILIES for label in signal_labels(family))
_LABEL_RANK = {key: rank for rank, key in enumerate(SIGNAL_LABEL_ORDER)}


_LITERAL = re.compile(r"^(?:\\b)?([\w'\- ]+?)(?:\\b)?$")


def _split_top_level(regex: str) -> list[str]:
    """Alternatives of a regex at parenthesis depth 0 (a|b(?:c|d)|e -> a, b(?:c|d), e)."""
    parts, depth, current, escaped = [], 0, "", False
    for char in regex:
        if escaped:
            current, escaped = current + char, False
            continue
        if char == "\\":
            current, escaped = current + char, True
            continue
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        if char == "|" and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return parts + [current]


_LEADING_GROUP = re.compile(r"^(\\b)?\(\?:([^()]*)\)(.*)$")
# A marker's literal stem: Latin letters (with the accented ones of the other markets: "não tem", "démantel"),
# or a run of any other script (Chinese, Thai, Bengali, Devanagari...).  A marker without one is tried at
# every position its first character occurs, which for a common letter ("n", "t", "s") is most positions.
_LATIN_STEM_CHARS = "a-z\u00c0-\u024f\u1e00-\u1eff"
_ANCHOR = re.compile(rf"^(?:\\b)?([{_LATIN_STEM_CHARS}][{_LATIN_STEM_CHARS}' &/-]*[{_LATIN_STEM_CHARS}&/])"
                     r"|^([^\x00-\x7f]+)")
_DIGIT_LED = ("\\d", "[¥$€£]", "\\+", "1(")
_DIGIT = re.compile(r"\d")
_TAIL = 12  # end-of-text markers ("…吗？", a final "?") are searched in this many last characters


_FIRST_ATOM = re.compile(r"\\[dw]|\[[^\]\\]*\]|\\[^\w]|[^\\\[\](){}|.*+?^$]")


def _first_class(branch: str) -> str | None:
    """The character-class body that the first character of any match of ``branch`` belongs to
    (``\\d``, ``¥$€£``, ``x``...), or None when its first atom is not one plain character or class."""
    atom = _FIRST_ATOM.match(branch)
    if atom is None or branch[atom.end() : atom.end() + 1] in ("?", "*", "{"):  # an optional first atom
        return None
    text = atom.group()
    if text.startswith("["):
        body = text[1:-1]
        return body if body and not body.startswith("^") else None
    return text if text.startswith("\\") else re.escape(text)


def _alternation(branches: list[str]) -> re.Pattern[str] | None:
    """One regex of ``branches`` (named groups), led by a look-ahead on their possible first characters.

    The same matches as the bare alternation; the look-ahead lets the regex engine skip to the next
    position where some branch can start instead of trying every branch at every position
    (measured on the bench listings: 28 against 6 us a listing for the price and quantity markers).
    """
    if not branches:
        return None
    firsts = [_first_class(b.split(">", 1)[1]) for b in branches]
    if any(f is None for f in firsts):
        return re.compile("|".join(branches))
    return re.compile(f"(?=[{''.join(dict.fromkeys(firsts))}])(?:{'|'.join(branches)})")


def _expand_leading_group(alternative: str) -> list[str]:
    """``\\b(?:a|b)x`` -> ``\\bax``, ``\\bbx`` (and the same without ``\\b``), so each branch starts with a literal."""
    grouped = _LEADING_GROUP.match(alternative)
    if not grouped:
        return [alternative]
    boundary, choices, rest = grouped.groups()
    return [b for choice in choices.split("|") for b in _expand_leading_group((boundary or "") + choice + rest)]


class SignalMatcher:
    """All signal families, compiled once; ``find`` returns one Evidence per (family, label, field).

    A regex alternation whose branches start with ``\\b`` or a digit class makes the regex engine
    try every branch at every position (measured: 93 us a listing for these markers).  Instead:

    * plain-word markers (微信, "for sale") go into one literal matcher (``TermMatcher``);
    * markers that start with a literal stem (``\\bseiz(?:ed|ure)``, ``价格[:：]?\\d``) are found by
      their stem in one Aho-Corasick pass, and only there is their regex tried (``match`` at
      the stem);
    * markers that start with a digit or currency sign are one regex, run only on text with a digit,
      and the few left (``v:``, a final question mark) one more;
    * start-of-title markers ("出 …") are matched at the start only, end-of-text ones ("…吗？")
      in the last few characters only.
    """

    def __init__(self) -> None:
        self.literals: dict[str, tuple[str, str]] = {}
        self.anchored: dict[str, list[tuple[re.Pattern[str], tuple[str, str]]]] = {}
        digit_led: list[str] = []
        others: list[str] = []
        self.end_markers: list[tuple[re.Pattern[str], tuple[str, str]]] = []
        starts: list[str] = []
        self.branch_labels: dict[str, tuple[str, str]] = {}
        for family in SIGNAL_FAMILIES:
            for label, regex in _PATTERNS[family]:
                for alternative in _split_top_level(regex):
                    literal = _LITERAL.match(alternative)
                    if alternative.endswith("$") and not alternative.endswith("\\$"):
                        self.end_markers.append((re.compile(alternative), (family, label)))
                        continue
                    if alternative.startswith("^"):
                        name = f"s{len(self.branch_labels)}"
                        self.branch_labels[name] = (family, label)
                        starts.append(f"(?P<{name}>{alternative[1:]})")
                        continue
                    if literal and literal.group(1).strip() and not alternative.startswith("\\d"):
                        self.literals.setdefault(literal.group(1), (family, label))
                        continue
                    for branch in _expand_leading_group(alternative):
                        anchor = _ANCHOR.match(branch)
                        if anchor:
                            stem = anchor.group(1) or anchor.group(2)
                            if branch[anchor.end():anchor.end() + 1] in ("?", "*", "{"):
                                stem = stem[:-1]  # "disponibles?": the stem is "disponible"
                            self.anchored.setdefault(stem, []).append((re.compile(branch), (family, label)))
                        else:
                            if branch.startswith("\\b") and branch[2:3].isalpha():
                                branch = branch[2] + "(?<![a-z0-9].)" + branch[3:]  # literal first: fast scan
                            name = f"d{len(self.branch_labels)}"
                            self.branch_labels[name] = (family, label)
                            (digit_led if branch.startswith(_DIGIT_LED) else others).append(f"(?P<{name}>{branch})")
        self.literal_matcher = TermMatcher(self.literals)
        self.digit_pattern = _alternation(digit_led)
        self.other_pattern = _alternation(others)
        self.start_pattern = re.compile("|".join(starts)) if starts else None
        self.stems = LazyAutomaton({stem: stem for stem in self.anchored})

    def __setstate__(self, state: dict) -> None:
        # A model artifact carries the matcher as it was built; one pickled before the look-ahead
        # alternations gets them on load (the same branches, so the same matches).
        self.__dict__.update(state)
        for name in ("digit_pattern", "other_pattern"):
            pattern = self.__dict__.get(name)
            if pattern is not None and not pattern.pattern.startswith("(?="):
                setattr(self, name, _alternation(_split_top_level(pattern.pattern)))

    def find(self, field: str, text: str) -> list[Evidence]:
        found: dict[tuple[str, str], str] = {}
        for span in self.literal_matcher.find(text):
            key = self.literals[span.term]
            if key not in found and not _denied(key, text, span.start):
                found[key] = span.term
        if self.anchored:
            for end, stem in self.stems.iter(text):
                start = end + 1 - len(stem)
                for pattern, key in self.anchored[stem]:
                    if key not in found:
                        match = pattern.match(text, start)
                        if match and not _denied(key, text, start):
                            found[key] = match.group().strip()
        if self.digit_pattern is not None and _DIGIT.search(text):
            for match in self.digit_pattern.finditer(text):
                found.setdefault(self.branch_labels[match.lastgroup], match.group().strip())
        if self.other_pattern is not None:
            for match in self.other_pattern.finditer(text):
                key = self.branch_labels[match.lastgroup]
                if key not in found and not _denied(key, text, match.start()):
                    found[key] = match.group().strip()
        tail_start = max(0, len(text) - _TAIL)
        for pattern, key in self.end_markers:
            if key not in found:
                match = pattern.search(text, tail_start)
                if match:
                    found[key] = match.group().strip()
        if self.start_pattern is not None:
            match = self.start_pattern.match(text)
            if match:
                found.setdefault(self.branch_labels[match.lastgroup], match.group().strip())
        if ("offer", "contact") not in found and _may_hold_handle(text):
            handles = extract_handles(text, field=field)
            if handles:
                # The handle's type only: the value is personal data and evidence is exported.
                found[("offer", "handle")] = handles[0].type
        return [
            Evidence("signal", f"{family}:{label}", matched, "*", family, field, 1.0)
            for (family, label), matched in sorted(found.items(), key=lambda kv: _LABEL_RANK[kv[0]])
        ]


def signal_summary(evidence) -> dict[str, list[str]]:
    """Family -> the labels that fired (e.g. {"offer": ["price", "contact"]}), for explanations."""
    found: dict[str, list[str]] = {}
    for ev in evidence:
        if ev.rule == "signal":
            label = ev.term.split(":", 1)[1]
            labels = found.setdefault(ev.kind, [])
            if label not in labels:
                labels.append(label)
    return found
