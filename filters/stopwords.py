"""Short stop-word lists for Gopher's "has at least 2 stop words" rule, per ISO 639-3 code.

Each list holds 15-35 of the most common function words of the language (articles, conjunctions,
prepositions, copulas, pronouns), lowercase. The rule only asks that natural running text
contain a couple of them, so a short list of very frequent words is enough; it is not meant for
stop-word removal. Where the written language commonly drops diacritics or tone marks (Yoruba,
Igbo), both spellings are listed.

Words are matched against lowercased tokens of `filters.tokenize`, so each entry is one token of
that tokenizer: single characters for Chinese and Japanese, and no elided forms such as French
"l'" (the tokenizer splits those into "l" and "'homme"). A language with no list here has the
stop-word rule skipped: it never drops a document for lack of a list.

Lists written for curate from general knowledge of each language's most frequent words.
"""

from __future__ import annotations

import functools
import unicodedata

from curation.languages import normalize_lang
from filters.scripts import dominant_script

_STOP_WORDS: dict[str, str] = {
    # Gopher's own eight English words first, then other very frequent ones.
    "eng": "the be to of and that have with a in is it for on was as are this by not or from at",
    "swh": "na ya wa kwa za la ni katika kuwa hiyo hii huo hilo lakini au kama pia cha vya "
    "kwamba sana baada kutoka yake wake zaidi hadi",
    "yor": "ni ti àti ati ó o wọ́n won sí si fún fun nínú ninu pé pe kò ko láti lati jẹ́ je "
    "mo a rẹ̀ re yìí yii náà naa kan bí bi sì ṣùgbọ́n sugbon",
    "hau": "da a na ta ya ba wanda cikin su shi kuma ga don amma akwai wannan ne ce sun za "
    "daga yana suka mai ko har",
    "ibo": "na nke ya ha ọ o ka n bụ bu maka dị di nwere ga e mana ma site onye ihe ndị ndi "
    "anyị anyi otu",
    "zul": "ukuthi futhi kodwa noma uma kanye ngoba lokho lapho kakhulu kuze ukuba nje ngakho "
    "manje khona lo le ukuze nokuthi ngokuthi kusho kepha",
    "som": "iyo ee ka ku oo u in ay waa uu la soo ah aan ugu si ayaa kale leh iska sida "
    "haddii laakiin ama ayuu ayay wax lagu",
    "amh": "እና ላይ ወደ ነው ውስጥ ይህ ግን እንደ ነበር ናቸው ሲሆን እሱ እሷ እኔ ሁሉ ብቻ ደግሞ ወይም ጋር "
    "በኋላ ስለ ምክንያቱም እንዲሁም ያለው አንድ የሆነ",
    "npi": "र को का की मा ले लाई पनि छ हो थियो गर्न भएको यो त्यो तर वा भने गरेको छन् हुन्छ "
    "रहेको एक सबै अनि",
    "hin": "के का की है में और को से यह कि पर एक हैं भी था ने नहीं लिए तो कर इस वह हो जो या थे गया",
    "ben": "এবং ও এই যে করে থেকে জন্য না হয় কিন্তু একটি এক তার সঙ্গে সাথে হবে ছিল আর কোন তিনি "
    "করা হয়েছে এ যা বা নিয়ে দিয়ে",
    "mar": "आणि आहे या व की ते हे ही तो त्या मध्ये आहेत होते होता केले करण्यात एक पण म्हणून "
    "नाही त्यांनी तर असे किंवा",
    "urd": "کے کا کی ہے میں اور کو سے یہ نے پر ہیں بھی تھا ایک کہ وہ لیے نہیں تو جو گیا تھے کر ہو",
    "arb": "في من على إلى أن عن مع التي الذي هذا هذه كان ما لا أو بين قد ثم كل بعد ذلك إن لم "
    "عند حتى كما هو هي",
    "pes": "و در به از که این را با است برای آن یک تا هم بر شد می بود او کرد نیز یا اما شده خود",
    "rus": "и в не на что с по это как к из а но у за от о для он она они так же то был была "
    "было бы или его",
    "ukr": "і й в у на що не з до та як це за від по а але для він вона вони було був його її "
    "із чи про так",
    "ell": "και το η ο να του της την των σε με για που τα οι στο στην από είναι ένα μια δεν θα "
    "στα τον ως αλλά τις στη",
    "tur": "ve bir bu da de için ile çok daha gibi ama olarak olan en ne o şu ki her kadar "
    "sonra veya değil mi var ancak",
    "ind": "yang dan di ini itu dengan untuk dari dalam tidak akan pada ke adalah juga ada atau "
    "oleh karena saya kami mereka telah sudah bisa tersebut sebagai",
    "zsm": "yang dan di ini itu dengan untuk dari dalam tidak akan pada ke adalah juga ada atau "
    "oleh kerana saya kami mereka telah sudah boleh tersebut sebagai ialah merupakan",
    "vie": "của và là có không được các những trong cho với một người này đã để khi từ đến "
    "cũng như thì sẽ ra nhiều về bị tại",
    "tgl": "ang ng sa mga at na ay si ni para hindi ito kung may siya nang ko ka pa lamang din "
    "rin kay niya kanyang sila ako iyon dahil",
    "spa": "de la que el en y a los se del las un por con no una su para es al lo como más "
    "pero sus le ya o este fue",
    "fra": "de la le et les des en un du une que est pour qui dans par pas au sur se ne plus "
    "il elle avec ce sont mais ou aux",
    "por": "de a o que e do da em um para é com não uma os no se na por mais as dos como mas "
    "ao ele das à seu sua",
    "deu": "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als "
    "auch es an werden aus er hat dass sie nach",
    "ita": "di e il la che in a per un è non una del della con i le si da al sono come lo ma "
    "gli più dei nel anche alla",
    "nld": "de en van het een in is dat op te zijn voor met die niet aan er om ook als bij "
    "door maar naar dan wordt of uit zo heeft",
    "pol": "i w na z się nie do to że jest o jak a ale po co od za przez dla oraz tak jego "
    "czy był które który lub te tym",
    # Chinese and Japanese are tokenized into characters, so their lists are characters.
    "zho": "的 了 是 在 和 有 我 不 人 这 這 也 他 就 中 一 上 们 們 为 為 到 个 個 说 說 与 與 对 對",
    "jpn": "の に は を た が で て と し も な い る か こ",
}


# Scripts that name one writing system for this purpose (a Simplified Chinese text and the Han
# list; Japanese kana and the Japanese list).
_SAME_SCRIPT = {"Hans": "Hani", "Hant": "Hani", "Hira": "Jpan", "Kana": "Jpan"}


@functools.cache
def stop_words(lang: str, script: str | None = None) -> frozenset[str] | None:
    """The stop words of `lang` (ISO 639-3, any alias, or a tag like `swh_Latn`), NFC-normalized.

    None when curate has no list for the language, or when `script` (ISO 15924) is not the script
    the list is written in: romanized Arabic or Hindi must not be judged by Arabic-script words.
    """
    try:
        code = normalize_lang(lang)
    except ValueError:
        code = lang.partition("_")[0].lower()
    listed = _STOP_WORDS.get(code)
    if listed is None:
        return None
    if script is not None and _SAME_SCRIPT.get(script, script) != _list_script(code):
        return None
    return frozenset(unicodedata.normalize("NFC", word) for word in listed.split())


@functools.cache
def _list_script(code: str) -> str:
    script = dominant_script(_STOP_WORDS[code])[0]
    return _SAME_SCRIPT.get(script, script)
