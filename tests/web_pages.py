"""Small web pages with FAQ markup in several languages and scripts, written for curate's tests and bench.

Each page is (url, html, planted pairs). The pairs are what a correct FAQ reader finds: the
question and the answer's plain text. Pages with broken markup or no FAQ plant none.
"""

from __future__ import annotations

import io
import json

SW_FAQ = [
    ("Je, ninawezaje kufungua akaunti ya benki?",
     "Tembelea tawi lolote la benki ukiwa na kitambulisho chako cha taifa na picha mbili za pasipoti."),
    ("Benki inafunguliwa saa ngapi siku za Jumamosi?",
     "Matawi yetu yote yanafunguliwa kuanzia saa tatu asubuhi hadi saa sita mchana siku za Jumamosi."),
]
HI_FAQ = [
    ("मैं अपना पासवर्ड कैसे बदल सकता हूँ?",
     "सेटिंग्स पृष्ठ पर जाएँ, फिर सुरक्षा विकल्प चुनें और नया पासवर्ड दो बार लिखकर सहेजें।"),
    ("क्या यह सेवा मुफ़्त है?",
     "हाँ, बुनियादी सेवा सभी उपयोगकर्ताओं के लिए पूरी तरह मुफ़्त है, लेकिन कुछ सुविधाओं के लिए शुल्क लगता है।"),
]
FR_FAQ = [
    ("Combien de temps dure la livraison en France métropolitaine ?",
     "La livraison standard prend entre trois et cinq jours ouvrés après la confirmation de votre commande."),
    ("Puis-je retourner un article acheté en solde ?",
     "Oui, les articles soldés peuvent être retournés dans un délai de trente jours s'ils n'ont pas été portés."),
]
YO_FAQ = [
    ("Báwo ni mo ṣe lè forúkọsílẹ̀ fún ẹ̀kọ́ náà?",
     "Ẹ lọ sí ojú òpó wẹ́ẹ̀bù wa, ẹ tẹ bọ́tìnì ìforúkọsílẹ̀, kí ẹ sì kọ orúkọ àti àdírẹ́sì ímeèlì yín sílẹ̀."),
]
ZH_ARTICLE = ("今年春天，这个小镇举办了第一届读书节。来自全国各地的作家和读者聚集在图书馆前的广场上，"
              "分享他们最喜欢的书籍。组织者说，读书节的目的是让更多的年轻人重新爱上阅读。"
              "活动持续了三天，吸引了超过五千名游客，当地的餐馆和旅店也因此生意兴隆。")


def jsonld_page_sw() -> tuple[str, str, list[tuple[str, str]]]:
    """JSON-LD in an @graph beside other nodes; an answer holding HTML (a list, a link, an entity)."""
    graph = {"@context": "https://schema.org", "@graph": [
        {"@type": "Organization", "name": "Benki Yetu", "url": "https://benki.example/"},
        {"@type": "FAQPage", "mainEntity": [
            {"@type": "Question", "name": SW_FAQ[0][0],
             "acceptedAnswer": {"@type": "Answer", "text": f"<p>{SW_FAQ[0][1]}</p>"}},
            {"@type": "Question", "name": SW_FAQ[1][0],
             "acceptedAnswer": {"@type": "Answer", "text": SW_FAQ[1][1].replace("asubuhi", "<b>asubuhi</b>")}},
        ]},
    ]}
    html = f"""<!DOCTYPE html>
<html lang="sw"><head><meta charset="utf-8"><title>Maswali ya mara kwa mara</title>
<link rel="canonical" href="https://benki.example/sw/maswali">
<script type="application/ld+json">{json.dumps(graph, ensure_ascii=False)}</script>
</head><body><nav>Nyumbani | Huduma | Wasiliana nasi</nav><h1>Maswali</h1></body></html>"""
    return "https://benki.example/sw/maswali", html, SW_FAQ


def microdata_page_hi() -> tuple[str, str, list[tuple[str, str]]]:
    """Microdata: FAQPage > Question (name) > acceptedAnswer Answer (text), answers holding markup."""
    questions = "".join(
        f"""<div itemscope itemprop="mainEntity" itemtype="https://schema.org/Question">
  <h3 itemprop="name">{q}</h3>
  <div itemscope itemprop="acceptedAnswer" itemtype="https://schema.org/Answer">
    <div itemprop="text"><p>{a}</p></div>
  </div>
</div>""" for q, a in HI_FAQ)
    html = f"""<html lang="hi"><head><meta charset="utf-8"><title>सामान्य प्रश्न</title></head>
<body itemscope itemtype="https://schema.org/FAQPage"><h1>सामान्य प्रश्न</h1>{questions}</body></html>"""
    return "https://seva.example/hi/faq", html, HI_FAQ


def nested_jsonld_page_fr() -> tuple[str, str, list[tuple[str, str]]]:
    """A top-level JSON-LD list; the FAQPage nested in a WebPage; one answer a list of Answers; prefixed types."""
    data = [
        {"@context": "https://schema.org", "@type": "BreadcrumbList", "itemListElement": []},
        {"@context": "https://schema.org", "@type": "WebPage", "name": "Aide",
         "mainEntity": {"@type": ["WebContent", "FAQPage"], "mainEntity": [
             {"@type": "Question", "name": FR_FAQ[0][0],
              "acceptedAnswer": [{"@type": "Answer", "text": FR_FAQ[0][1]}]},
             {"@type": "schema:Question", "name": FR_FAQ[1][0],
              "acceptedAnswer": {"@type": "Answer", "text": FR_FAQ[1][1].replace("'", "&#39;")}},
         ]}},
    ]
    html = f"""<html lang="fr"><head><meta charset="utf-8"><title>Aide</title>
<meta property="og:url" content="https://boutique.example/fr/aide">
<script type="application/ld+json">
{json.dumps(data, ensure_ascii=False, indent=2)}
</script></head><body><p>Besoin d'aide ?</p></body></html>"""
    return "https://boutique.example/fr/aide", html, FR_FAQ


def both_markups_page_yo() -> tuple[str, str, list[tuple[str, str]]]:
    """The same FAQ in JSON-LD and in microdata: found once."""
    (q, a), = YO_FAQ
    data = {"@context": "https://schema.org", "@type": "FAQPage",
            "mainEntity": {"@type": "Question", "name": q, "acceptedAnswer": {"@type": "Answer", "text": a}}}
    html = f"""<html lang="yo"><head><meta charset="utf-8">
<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script></head>
<body><section itemscope itemtype="http://schema.org/FAQPage">
<div itemprop="mainEntity" itemscope itemtype="http://schema.org/Question"><span itemprop="name">{q}</span>
<div itemprop="acceptedAnswer" itemscope itemtype="http://schema.org/Answer"><span itemprop="text">{a}</span></div>
</div></section></body></html>"""
    return "https://eko.example/yo/ibeere", html, YO_FAQ


BROKEN_JSONLD_LINE = 4  # the line its broken <script> starts on


def broken_jsonld_page_ar() -> tuple[str, str, list[tuple[str, str]]]:
    """FAQ JSON-LD cut off mid-object (a missing brace and a trailing comma): quarantined, nothing planted."""
    html = """<html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>الأسئلة الشائعة</title>
<link rel="canonical" href="https://dukan.example/ar/faq">
<script type="application/ld+json">{"@context": "https://schema.org", "@type": "FAQPage",
 "mainEntity": [{"@type": "Question", "name": "كيف أتتبع طلبي؟",
   "acceptedAnswer": {"@type": "Answer", "text": "استخدم رقم التتبع المرسل إلى بريدك الإلكتروني."},
 ]</script>
</head><body><p>مرحبا</p></body></html>"""
    return "https://dukan.example/ar/faq", html, []


def missing_answer_page_en() -> tuple[str, str, list[tuple[str, str]]]:
    """One good pair and one Question without an answer (quarantined as faq_no_answer)."""
    data = {"@context": "https://schema.org", "@type": "FAQPage", "mainEntity": [
        {"@type": "Question", "name": "How long does the battery last on a single charge?",
         "acceptedAnswer": {"@type": "Answer", "text": "About eleven hours of continuous video playback, "
                                                       "or roughly two days of ordinary use."}},
        {"@type": "Question", "name": "Is the charger included in the box?"},
    ]}
    html = f"""<html lang="en"><head><script type="application/ld+json">{json.dumps(data)}</script></head>
<body></body></html>"""
    pair = (data["mainEntity"][0]["name"], data["mainEntity"][0]["acceptedAnswer"]["text"])
    return "https://gadget.example/faq", html, [pair]


def article_page_zh() -> tuple[str, str, list[tuple[str, str]]]:
    """An ordinary article with navigation and a footer, no FAQ; its main text is ZH_ARTICLE."""
    html = f"""<html lang="zh"><head><meta charset="utf-8"><title>小镇读书节</title>
<script type="application/ld+json">{{"@context": "https://schema.org", "@type": "Organization", "name": </script>
</head><body><nav><a href="/">首页</a> <a href="/news">新闻</a> <a href="/about">关于我们</a></nav>
<article><h1>小镇读书节</h1><p>{ZH_ARTICLE}</p></article>
<footer>版权所有 © 2024 小镇日报。保留所有权利。</footer></body></html>"""
    return "https://xiaozhen.example/news/dushujie", html, []


PAGES = (jsonld_page_sw, microdata_page_hi, nested_jsonld_page_fr, both_markups_page_yo, broken_jsonld_page_ar,
         missing_answer_page_en, article_page_zh)


def write_warc(path, pages: list[tuple[str, str]], extra_records: bool = True) -> None:
    """A gzip'ed WARC (warcio's writer) of HTML responses; with extra_records also a request, an image,
    a 404 page and a redirect, which a reader must skip."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    def response(writer, url, body: bytes, status="200 OK", content_type="text/html; charset=utf-8"):
        headers = StatusAndHeaders(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))],
                                   protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                                      http_headers=headers))

    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=str(path).endswith(".gz"))
        for index, (url, html) in enumerate(pages):
            if extra_records and index == 1:
                request = StatusAndHeaders("GET / HTTP/1.1", [("Host", "example")], is_http_request=True)
                writer.write_record(writer.create_warc_record(url, "request", http_headers=request))
                response(writer, "https://img.example/logo.png", b"\x89PNG\r\n\x1a\n\x00\x00", content_type="image/png")
                response(writer, "https://gone.example/", b"<html>Not found</html>", status="404 Not Found")
            response(writer, url, html.encode("utf-8"))
