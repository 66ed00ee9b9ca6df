"""Build the small multilingual sample used by the quickstart recipe and the tests.

Run it from anywhere; it rewrites, next to itself, deterministically:

    web_sample.jsonl            most records, shuffled, with 4 bad lines planted
    web_sample_bad_utf8.jsonl   3 lines, the middle one holds invalid UTF-8 bytes
    web_sample_leaks.jsonl      5 records with benchmark items planted (see "Decontamination")
    benchmark.jsonl             a small test set, the quickstart's `decontaminate` benchmark
    forum_posts.csv             12 rows: post_id, body, lang_hint
    notes.txt                   6 paragraphs (Swahili and Yoruba), blank-line separated
    expected.json               the manifest the tests assert against

All texts below were written for this sample. Record ids say what a record is:

    <lang>-clean-<n>     a clean document (n = its index in CLEAN[lang], from 1)
    <lang>-exact-<n><x>  a copy of <lang>-clean-<n>: identical, or differing only in
                         whitespace, letter case or the spacing of punctuation
    <lang>-near-<n><x>   a lightly edited copy of <lang>-clean-<n> (a few words changed)
    <lang>-part-<n><x>   a short passage lifted verbatim from <lang>-clean-<n>
    junk-<kind>-<n>      a record a quality filter should drop
    bad-<kind>-<n>       a line a reader should quarantine

Languages use ISO 639-3 codes, as in the rest of curate. The checks at the bottom keep
the sample honest when a text is edited: word counts, near-duplicate Jaccard and
passage containment (5-word shingles; character 5-grams for Chinese and Thai).
"""

from __future__ import annotations

import csv
import json
import random
import re
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent

# language -> (script, lid.176 label or None when lid.176 does not know the language)
LANGUAGES = {
    "eng": ("Latn", "en"),
    "swh": ("Latn", "sw"),
    "yor": ("Latn", "yo"),
    "hau": ("Latn", None),  # lid.176 has no Hausa label: the LID step cannot keep these records
    "npi": ("Deva", "ne"),
    "hin": ("Deva", "hi"),
    "amh": ("Ethi", "am"),
    "arb": ("Arab", "ar"),
    "rus": ("Cyrl", "ru"),
    "zho": ("Hans", "zh"),
    "tha": ("Thai", "th"),
    "ell": ("Grek", "el"),
}
UNSPACED = {"zho", "tha"}  # measured in characters, shingled by character

# ---------------------------------------------------------------------------------------
# Clean documents for web_sample.jsonl: CLEAN[lang][n - 1] is "<lang>-clean-<n>".
# Paragraphs are separated by a blank line.
# ---------------------------------------------------------------------------------------

CLEAN: dict[str, list[str]] = {}

CLEAN["eng"] = [
    # 1 farming (long: source of eng-part-1a)
    """\
Across the dry plains north of the river, a group of small farmers has changed the way they water their crops. Five years ago most families depended entirely on the rains, and a late start to the wet season could mean a hungry year. Today many of them use simple drip lines made from plastic tubing and a raised water tank filled by a solar pump. The system is not expensive, and the farmers say it pays for itself within two harvests.

Grace Mwale, who grows tomatoes and onions on less than one hectare, remembers the first season with the new pipes. She used about half the water she had carried by hand the year before, and her tomatoes were larger and healthier. Because the water goes straight to the roots, fewer weeds grow between the rows, so she spends less time in the field and more time selling at the market.

Agricultural officers warn that drip irrigation is not a cure for every problem. The tubes must be cleaned regularly, and the pumps need spare parts that are sometimes hard to find. Still, the farmers have formed a small cooperative to buy parts together and to share advice, and neighbouring villages are now asking to join.""",
    # 2 health
    """\
The health centre in our district has started a new campaign to reduce stomach illnesses among young children. Nurses visit primary schools every Tuesday to show pupils how to wash their hands properly with soap and clean water. They explain that germs cannot be seen, but they travel easily from dirty hands to food and then into the body.

Parents are also invited to short meetings at the clinic, where they learn how to store drinking water safely and when to bring a sick child for treatment. According to the head nurse, the number of cases of diarrhoea has already fallen since the campaign began in March. She hopes that other districts will copy the programme, because it costs very little and protects the most vulnerable members of the community.""",
    # 3 town market (exact copy: eng-exact-3a, lower case)
    """\
Every Saturday morning the old square in the centre of town fills with traders long before sunrise. Farmers arrive on bicycles and in small trucks, carrying baskets of mangoes, beans, green peppers and fresh eggs. By seven o'clock the air smells of roasted maize and strong coffee, and the narrow paths between the stalls are crowded with shoppers.

For many families the market is more than a place to buy food. It is where people meet friends, hear the latest news and settle small debts. Older traders say that prices have risen sharply this year, but they also point out that customers still come, because they trust the quality of goods grown nearby. The town council plans to add a roof over the main section before the next rainy season.""",
    # 4 technology
    """\
When Daniel opened his phone repair shop three years ago, he had one table, a few screwdrivers and a borrowed soldering iron. Today he employs two young assistants and fixes more than forty phones a week. Most of the work is simple: cracked screens, weak batteries and charging ports full of dust. Sometimes a customer brings a phone that has fallen into water, and those repairs take patience.

Daniel believes that repairing old devices is good for both people and the environment. A new smartphone costs more than a month's wages for many of his customers, so fixing an old one keeps them connected to family, work and mobile banking. He also collects broken batteries and sends them to a recycling company in the capital instead of throwing them away.""",
    # 5 weather
    """\
Forecasters expect heavy rain across the coastal region from Thursday evening until at least Sunday. Strong winds may bring down branches and power lines, and low-lying roads near the harbour could be flooded by Friday afternoon. Residents are advised to avoid crossing rivers on foot and to keep children away from fast-moving water.

Inland areas should see lighter showers, with temperatures falling a few degrees below the seasonal average. Farmers who have not yet harvested their maize are encouraged to do so before the weekend if possible. The weather service will publish updated warnings on its website and on local radio stations twice a day until the storm has passed.""",
    # 6 football
    """\
The final of the regional youth football tournament drew the largest crowd the small stadium has seen in years. Supporters of both teams arrived early, singing and waving flags, and by kick-off every seat was taken. The home side started nervously and conceded a goal after only ten minutes, when their goalkeeper slipped on the wet grass.

After the break, however, the coach moved his fastest player to the left wing, and the change made all the difference. The team equalised with a header from a corner and scored the winner five minutes before the end. The players celebrated with their families on the pitch, and the captain said the victory belonged to the whole town, which had raised money for their boots and travel.""",
]

CLEAN["swh"] = [
    # 1 farming
    """\
Wakulima wa kijiji cha Mlimani katika mkoa wa Dodoma wameanza kutumia mbegu bora za mahindi zinazostahimili ukame. Katika msimu uliopita, mvua za masika zilichelewa kwa wiki kadhaa, na mashamba mengi ya mahindi yalikauka kabla ya mavuno. Mwaka huu, kwa msaada wa maafisa wa kilimo, wakulima hao wamejifunza kupanda mapema na kutumia mbolea ya samadi ili kuhifadhi unyevu ardhini.

Bi Amina Juma, mkulima wa kijiji hicho mwenye shamba la ekari mbili, anasema kwamba mabadiliko hayo yameleta matumaini makubwa kwa familia yake. Anaeleza kwamba mimea yake sasa ina nguvu zaidi na majani yake ni ya kijani kibichi. Wakulima wengine wameunda kikundi cha kuweka akiba kwa ajili ya kununua mbegu na zana za kilimo kwa pamoja. Viongozi wa kijiji wanatarajia kwamba mavuno ya mwaka huu yatatosha kulisha familia zote na kubaki na ziada ya kuuza sokoni. Katika mkutano wa kijiji wiki iliyopita, wakulima walikubaliana kuendelea na mpango huu kwa miaka mingine mitatu.""",
    # 2 health (long: source of swh-part-2a)
    """\
Hospitali ya wilaya imeanzisha kampeni mpya ya kupambana na malaria, hasa kwa watoto wadogo na akina mama wajawazito. Katika kipindi cha miezi mitatu, wahudumu wa afya watatembelea kila kaya katika wilaya hiyo na kugawa vyandarua vilivyowekwa dawa. Pia watawafundisha wananchi jinsi ya kutundika vyandarua hivyo kwa usahihi na kuvitumia kila usiku.

Daktari mkuu wa hospitali, Dkt. Hassan Mbaraka, amesema kwamba malaria bado ni miongoni mwa sababu kubwa za vifo vya watoto katika eneo hili. Ameongeza kuwa mtoto mwenye homa anapaswa kupelekwa kituo cha afya mapema, kwa sababu matibabu ya haraka yanaokoa maisha. Wazazi wengi husubiri kwa siku kadhaa wakitumaini kwamba homa ya mtoto itapungua yenyewe, jambo ambalo ni hatari.

Mbali na vyandarua, kampeni hii inawahimiza wananchi kufyeka nyasi ndefu karibu na nyumba zao na kufukia madimbwi ya maji yaliyotuama, kwa kuwa mbu huzaliana katika maeneo hayo. Walimu wa shule za msingi nao wameombwa kuwaelimisha wanafunzi kuhusu dalili za malaria ili wawaambie wazazi wao nyumbani.

Wananchi wa kijiji cha Kisiwani wamepokea kampeni hii kwa furaha. Mzee Omari Salim amesema kwamba zamani familia yake ilipoteza watoto wawili kwa ugonjwa huu, na sasa anataka kila mtu ajue jinsi ya kujikinga. Hospitali inatarajia kwamba idadi ya wagonjwa wa malaria itapungua kwa kiasi kikubwa kabla ya mwisho wa mwaka.""",
    # 3 town market
    """\
Soko kuu la mji wetu hufunguliwa kila siku ya wiki kuanzia saa kumi na mbili ya asubuhi. Wafanyabiashara kutoka vijiji vya jirani huleta ndizi, nyanya, vitunguu, samaki wabichi na nguo za aina mbalimbali. Wanunuzi wengi hufika mapema kwa lengo la kupata bidhaa nzuri kabla ya jua kuwa kali. Siku ya Jumamosi soko hujaa watu kuliko siku nyingine za wiki.

Mama Rehema amekuwa akiuza mboga sokoni hapa kwa zaidi ya miaka kumi. Kwa mujibu wake, biashara imekuwa ngumu katika mwaka huu kwa sababu ya kupanda kwa bei za usafiri, lakini wateja wake wa kudumu bado wanamtembelea kila wiki. Halmashauri ya mji imeahidi kujenga vyoo vipya na kuboresha mifereji ya maji ili soko liwe safi zaidi wakati wa mvua. Wafanyabiashara wengi wa soko hilo wanasubiri kwa hamu kuona ahadi hiyo ikitekelezwa katika mwaka huu.""",
    # 4 school
    """\
Shule ya Msingi Umoja imepata maktaba mpya iliyojengwa kwa michango ya wazazi na wadau wa elimu. Maktaba hiyo ina vitabu zaidi ya elfu mbili vya hadithi, sayansi, historia na lugha. Kabla ya hapo, wanafunzi walilazimika kushiriki kitabu kimoja kati ya watoto watano darasani.

Mwalimu mkuu, Bw. Joseph Kimaro, amesema kwamba lengo kubwa ni kuwajengea wanafunzi tabia ya kupenda kusoma. Kila darasa sasa lina kipindi maalum cha kusoma mara mbili kwa wiki. Wazazi wa wanafunzi pia wanaruhusiwa kuazima vitabu vya maktaba siku ya Jumamosi. Wanafunzi wanasema wanafurahia hasa vitabu vya hadithi za Kiswahili, kwa sababu vinawasaidia kuelewa lugha yao vizuri zaidi.""",
    # 5 weather (exact copy: swh-exact-5a, identical)
    """\
Mamlaka ya hali ya hewa imetoa tahadhari ya mvua kubwa katika mikoa ya pwani kwa siku tatu zijazo. Mvua hizo zinatarajiwa kuambatana na upepo mkali, na huenda zikasababisha mafuriko katika maeneo ya mabondeni. Wananchi wanaoishi karibu na mito wameshauriwa kuhamia maeneo ya miinuko mapema.

Wavuvi wa maeneo ya pwani nao wametakiwa kutokwenda baharini hadi hali ya hewa itakapotengemaa. Katika mikoa ya bara, hali ya hewa inatarajiwa kuwa ya mawingu na mvua za wastani, jambo ambalo ni habari njema kwa wakulima wanaosubiri kupanda mazao. Mamlaka imesema itaendelea kutoa taarifa kupitia redio, televisheni na mitandao ya kijamii kila siku.""",
    # 6 cooking
    """\
Pilau ni chakula kinachopendwa sana katika pwani ya Afrika Mashariki, hasa wakati wa sherehe na sikukuu. Kwa ajili ya kupika pilau nzuri, unahitaji mchele, nyama ya ng'ombe au kuku, vitunguu, kitunguu saumu, tangawizi na viungo vya pilau kama mdalasini, karafuu, iliki na bizari.

Kwanza, chemsha nyama kwa chumvi na tangawizi katika sufuria mpaka iive vizuri. Kisha kaanga vitunguu kwenye mafuta hadi viwe na rangi ya kahawia. Ongeza viungo vya pilau na kitunguu saumu, halafu weka nyama pamoja na mchele uliooshwa kwa maji safi. Mimina supu ya nyama, funika sufuria na upike kwa moto mdogo hadi maji yakauke. Kwa kawaida pilau huliwa pamoja na kachumbari ya nyanya na vitunguu, na wengi hupenda kuongeza ndizi mbivu. Katika miji mingi ya pwani, pilau hupikwa hasa wakati wa sikukuu ya Idi na katika sherehe za harusi.""",
]

CLEAN["yor"] = [
    # 1 farming
    """\
Àwọn àgbẹ̀ ní abúlé wa ti bẹ̀rẹ̀ sí í gbin àgbàdo àti ẹ̀gẹ́ lẹ́yìn tí òjò àkọ́kọ́ rọ̀ ní oṣù kẹrin. Ilẹ̀ náà tutù dáadáa, inú gbogbo wọn sì dùn. Ọ̀pọ̀lọpọ̀ ọ̀dọ́ tí wọ́n ti lọ sí ìlú ńlá ló ti padà wá láti ran àwọn òbí wọn lọ́wọ́ nínú oko.

Baba Àdìgún, tí ó ti ń ṣiṣẹ́ àgbẹ̀ fún ogójì ọdún, sọ pé iṣẹ́ oko ṣì jẹ́ iṣẹ́ tí ó ní ọ̀wọ̀. Ó ní àwọn àgbẹ̀ kékeré nílò ajílẹ̀, irinṣẹ́ tuntun àti ọ̀nà tí ó dára láti gbé èso wọn lọ sí ọjà. Àwọn obìnrin abúlé náà ti dá ẹgbẹ́ àjùmọ̀ṣe sílẹ̀, kí wọ́n lè máa ra irúgbìn pọ̀, kí wọ́n sì máa ta ọjà oko wọn ní owó tí ó dára.""",
    # 2 health (near copy: yor-near-2a)
    """\
Ilé ìwòsàn ìjọba tí ó wà ní àárín ìlú wa ti bẹ̀rẹ̀ ètò tuntun láti dáàbò bo àwọn ọmọdé lọ́wọ́ àìsàn ibà. Àwọn nọ́ọ̀sì máa ń lọ láti ilé dé ilé láti pín àwọ̀n ẹ̀fọn fún àwọn ìdílé. Wọ́n tún ń kọ́ àwọn òbí bí wọ́n ṣe lè lò ó dáadáa ní alẹ́.

Dókítà Fọláṣadé sọ pé ọ̀pọ̀lọpọ̀ ọmọdé ló ń kú nítorí pé àwọn òbí wọn kò tètè gbé wọn wá sí ilé ìwòsàn. Ó gba gbogbo ènìyàn níyànjú láti máa gbé ọmọ tí ara rẹ̀ bá gbóná wá ní kíákíá. Ó tún sọ pé kí àwọn ará ìlú máa da omi tí ó dúró sí àyíká ilé wọn nù, nítorí pé ibẹ̀ ni ẹ̀fọn ti ń bí sí. Àwọn olùkọ́ náà ti gbà láti sọ̀rọ̀ nípa ibà fún àwọn akẹ́kọ̀ọ́ ní ilé ẹ̀kọ́.""",
    # 3 town market
    """\
Ọjà Ọba tí ó wà ní àárín ìlú máa ń kún fún ènìyàn láti òwúrọ̀ kùtùkùtù títí di alẹ́. Àwọn oníṣòwò máa ń ta ata, tòmátì, iṣu, ẹja gbígbẹ, aṣọ àti ọ̀pọ̀lọpọ̀ nǹkan mìíràn. Ariwo àwọn tí ń polówó ọjà àti àwọn tí ń ná ọjà máa ń gbòde ní gbogbo igun ọjà náà.

Ìyá Àlàké, tí ó ti ń ta ata fún ọgbọ̀n ọdún, sọ pé owó ọjà ti wọ́n gan-an lọ́dún yìí. Ó ní owó ọkọ̀ tí wọ́n fi ń kó ọjà wá láti oko ló fa ìṣòro náà. Síbẹ̀síbẹ̀, àwọn oníbàárà rẹ̀ ṣì ń wá, nítorí pé wọ́n mọ̀ pé ata rẹ̀ dára. Ìjọba ìbílẹ̀ ti ṣèlérí láti tún àwọn ọ̀nà inú ọjà ṣe kí òjò tó bẹ̀rẹ̀.""",
    # 4 school
    """\
Ilé ẹ̀kọ́ alákọ̀ọ́bẹ̀rẹ̀ kan ní ìlú Ìbàdàn ti gba ẹ̀bùn ìwé tí ó lé ní ẹgbẹ̀rún kan láti ọwọ́ àwọn ọmọ ìlú tí ó ń gbé ní òkèèrè. Olùkọ́ àgbà ilé ẹ̀kọ́ náà sọ pé inú àwọn akẹ́kọ̀ọ́ dùn gidigidi, nítorí pé tẹ́lẹ̀ ọmọ márùn-ún ló ń lo ìwé kan ṣoṣo.

Ní báyìí, kílàsì kọ̀ọ̀kan ní àkókò kíkà ìwé lẹ́ẹ̀mejì ní ọ̀sẹ̀. Àwọn olùkọ́ ń gba àwọn ọmọ níyànjú láti máa ka ìtàn àti àròsọ ní èdè Yorùbá àti ní èdè Gẹ̀ẹ́sì. Àwọn òbí náà lè yá ìwé lọ sí ilé ní ọjọ́ Sátidé. Olùkọ́ àgbà gbàgbọ́ pé kíkà ìwé yóò ran àwọn ọmọ lọ́wọ́ láti ṣe dáadáa nínú ìdánwò wọn.""",
    # 5 cooking
    """\
Ẹ̀fọ́ rírò jẹ́ ọ̀kan lára àwọn ọbẹ̀ tí àwọn Yorùbá fẹ́ràn jù. A máa ń jẹ ẹ́ pẹ̀lú iyán, àmàlà tàbí ẹ̀bà. Láti se ẹ̀fọ́ rírò, o nílò ẹ̀fọ́ tútù, ata rodo, tàtàṣé, àlùbọ́sà, epo pupa, ìrú, ẹran àti ẹja gbígbẹ.

Kọ́kọ́ fọ ẹ̀fọ́ náà dáadáa, kí o sì gé e kéékèèké. Lọ ata àti tàtàṣé pọ̀ mọ́ àlùbọ́sà. Da epo pupa sínú ìkòkò, jẹ́ kí ó gbóná díẹ̀, kí o sì fi ata tí o ti lọ̀ sí i. Jẹ́ kí ó hó fún ìṣẹ́jú mẹ́wàá, lẹ́yìn náà fi ẹran, ẹja àti ìrú kún un. Níkẹyìn, da ẹ̀fọ́ sínú rẹ̀, rú u pọ̀, kí o sì jẹ́ kí ó jinná fún ìṣẹ́jú márùn-ún péré.""",
    # 6 festival
    """\
Ọdún Ọ̀ṣun Òṣogbo jẹ́ ọ̀kan lára àwọn ayẹyẹ tí ó gbajúmọ̀ jù ní ilẹ̀ Yorùbá. Lọ́dọọdún, ní oṣù kẹjọ, ẹgbẹẹgbẹ̀rún ènìyàn máa ń wá láti gbogbo àgbáyé láti péjú sí ayẹyẹ náà ní igbó mímọ́ tí ó wà lẹ́bàá odò Ọ̀ṣun.

Ọjọ́ pàtàkì jùlọ ni ọjọ́ tí Arugbá máa ń gbé igbá ẹbọ lọ sí etí odò, tí àwọn onílù àti akọrin sì ń tẹ̀lé e. Àwọn ènìyàn máa ń wọ aṣọ funfun, wọ́n sì ń jó, wọ́n ń kọrin. Ọba ìlú Òṣogbo, Ataọ́ja, máa ń kí àwọn àlejò káàbọ̀ sí ààfin rẹ̀. Àwọn oníṣòwò ìlú náà sì máa ń jèrè gan-an ní àkókò ọdún yìí.""",
]

CLEAN["hau"] = [
    # 1 farming
    """\
Manoma a ƙauyukan jihar Kano sun fara shirin noman damina na bana. Da yawa daga cikinsu sun sayi iri mai kyau na masara da gero daga cibiyar bincike ta aikin gona. Jami'an gona sun ba su shawara su yi amfani da takin gargajiya tare da takin zamani domin ƙasa ta ci gaba da zama mai albarka.

Malam Musa Abdullahi, wanda ke noma a gonar kadada uku, ya ce ruwan sama na bara bai yi kyau ba, amma yana fatan bana za a samu albarka. Ya ƙara da cewa farashin taki ya tashi sosai, don haka manoma da yawa sun kafa ƙungiyoyi domin su saya tare. Gwamnatin jiha ta yi alƙawarin raba taki a farashi mai sauƙi kafin ƙarshen wata.""",
    # 2 health
    """\
Ma'aikatar lafiya ta jihar ta fara wani sabon shiri na yi wa yara allurar rigakafin cutar kyanda da shan inna. Ma'aikatan lafiya za su ziyarci kowane gida a cikin makonni biyu masu zuwa, kuma allurar kyauta ce ga dukkan yara 'yan ƙasa da shekara biyar.

Dakta Aisha Bello ta bayyana cewa rigakafi na daga cikin hanyoyi mafi sauƙi na kare rayukan yara. Ta roƙi iyaye su kai 'ya'yansu cibiyoyin lafiya ko su bar ma'aikata su shiga gidajensu. Ta kuma ce sarakunan gargajiya da malaman addini sun yi alƙawarin tallafa wa shirin ta hanyar wayar da kan jama'a a masallatai da kasuwanni. Ana sa ran cewa shirin zai kai ga yara fiye da dubu ɗari a jihar.""",
    # 3 town market
    """\
Kasuwar Kurmi da ke cikin birnin Kano tana daga cikin tsofaffin kasuwanni a Afirka ta Yamma. A kowace rana, 'yan kasuwa suna sayar da kayayyaki iri-iri kamar yadudduka, takalma, kayan ƙamshi, fatu da kayan abinci. Masu saye suna zuwa daga sassa daban-daban na ƙasar har ma da ƙasashen makwabta.

Alhaji Sani, wanda ya shafe shekaru talatin yana sayar da atamfa a kasuwar, ya ce ciniki ya ragu kaɗan saboda tsadar rayuwa. Duk da haka, ya ce abokan cinikinsa na da daɗewa suna dawowa domin sun amince da ingancin kayansa. Shugabannin kasuwar sun ce suna shirin gyara hanyoyi da magudanan ruwa kafin damina ta kankama.""",
    # 4 school
    """\
Gwamnatin jihar ta buɗe sabbin ajujuwa goma a makarantar firamare ta garin Danbatta. Kafin wannan lokaci, ɗalibai da yawa suna zama a ƙarƙashin bishiya saboda rashin isassun ɗakunan karatu. Yanzu kowane aji yana da tebura, kujeru da allo mai kyau.

Shugaban makarantar, Malam Ibrahim Yusuf, ya ce yawan yaran da ke zuwa makaranta ya ƙaru tun bayan da aka fara ba su abinci kyauta da rana. Ya ƙara da cewa makarantar na buƙatar ƙarin malamai, musamman na lissafi da kimiyya. Iyaye sun nuna farin cikinsu da wannan ci gaba, kuma sun yi alƙawarin tura 'ya'yansu mata makaranta kamar yadda suke tura maza.""",
    # 5 weather
    """\
Hukumar kula da yanayi ta ƙasa ta yi gargaɗin cewa za a samu iska mai ƙarfi da ƙura a jihohin arewa a cikin kwanaki masu zuwa. Iskar hunturu mai ɗauke da hazo za ta rage ganin hanya, musamman da safe da kuma maraice. Hukumar ta shawarci direbobi su rage gudu kuma su kunna fitilunsu ko da rana.

Likitoci kuma sun ce ƙurar na iya haddasa tari da ciwon ido, don haka ya kamata mutane su rufe hanci da baki idan za su fita. Ana kuma shawartar iyaye su bai wa yara ruwa mai yawa su sha, su kuma sanya musu tufafi masu ɗumi da dare, saboda sanyi yana ƙaruwa sosai a wannan lokaci na shekara.""",
    # 6 technology
    """\
Matasa da dama a birnin Kaduna sun fara koyon aikin gyaran wayoyin hannu da kwamfutoci a wata cibiyar koyar da sana'o'i. Cibiyar, wadda wata ƙungiya mai zaman kanta ta buɗe, tana ba da horo na tsawon watanni shida ba tare da biyan kuɗi ba. Bayan kammala horon, ana ba kowane ɗalibi akwatin kayan aiki domin ya fara sana'arsa.

Fatima Abubakar, ɗaya daga cikin ɗaliban, ta ce a da ba ta da aikin yi, amma yanzu tana gyaran wayoyi a shagonta kuma tana samun abin da za ta taimaka wa iyayenta. Ta ce tana so ta ƙara koyon yadda ake rubuta manhajoji domin ta samar da aikace-aikace masu amfani ga 'yan kasuwa a yankinta.""",
]

CLEAN["npi"] = [
    # 1 farming
    """\
हाम्रो गाउँका किसानहरूले यस वर्ष धानको नयाँ जात रोपेका छन्। कृषि ज्ञान केन्द्रका प्राविधिकहरूका अनुसार यो जातलाई कम पानी चाहिन्छ र यसले धेरै उत्पादन दिन्छ। गत वर्ष मनसुन ढिलो सुरु भएकाले धेरै खेतहरू बाँझै रहेका थिए।

किसान रामबहादुर थापाले भने, "पहिले हामी आकाशे पानीमा मात्र भर पर्थ्यौं, अहिले सानो सिँचाइ कुलो बनाएपछि खेती गर्न सजिलो भएको छ।" गाउँका महिलाहरूले पनि सहकारी संस्था खोलेर बीउ र मल सँगै किन्न थालेका छन्। यसले गर्दा लागत घटेको छ र बजारमा राम्रो मूल्य पाउन सहज भएको छ। किसानहरू यस वर्ष राम्रो फसल हुने आशामा छन्।""",
    # 2 health (near copy: npi-near-2a)
    """\
जिल्ला अस्पतालले यस महिनादेखि गाउँ गाउँमा निःशुल्क स्वास्थ्य शिविर सञ्चालन गर्न थालेको छ। शिविरमा डाक्टर र नर्सहरूले रक्तचाप, मधुमेह र आँखाको जाँच गर्छन्। आवश्यक परेमा बिरामीलाई औषधि पनि निःशुल्क दिइन्छ।

अस्पतालका प्रमुख डा. सीता श्रेष्ठका अनुसार दुर्गम क्षेत्रका धेरै मानिसहरू लामो दूरी र खर्चका कारण अस्पताल आउन सक्दैनन्। त्यसैले स्वास्थ्यकर्मीहरू आफैं गाउँमा पुगेर सेवा दिने निर्णय गरिएको हो। उनले सबैलाई नियमित रूपमा स्वास्थ्य जाँच गराउन, सफा पानी पिउन र खाना खानुअघि साबुनपानीले हात धुन आग्रह गरिन्। पहिलो शिविरमा तीन सयभन्दा बढी मानिसहरूले सेवा लिएका थिए।""",
    # 3 festival
    """\
तिहार नेपालको दोस्रो ठूलो चाड हो। पाँच दिनसम्म मनाइने यस चाडमा काग, कुकुर, गाई र गोरुको पूजा गरिन्छ। लक्ष्मी पूजाको दिन घरघरमा दियो र बत्ती बालिन्छ, र आँगनमा रङ्गीचङ्गी रङ्गोली बनाइन्छ।

साँझ केटाकेटीहरू समूह बनाएर देउसी र भैलो खेल्न घरघर जान्छन्। उनीहरूले गीत गाउँछन् र घरधनीले उनीहरूलाई पैसा, फलफूल र सेलरोटी दिन्छन्। अन्तिम दिन भाइटीका मनाइन्छ, जहाँ दिदीबहिनीहरूले दाजुभाइको निधारमा सातरङ्गी टीका लगाएर उनीहरूको लामो आयुको कामना गर्छन्। यो चाडले परिवार र समाजका सदस्यहरूबीचको माया र सम्बन्धलाई अझ बलियो बनाउँछ।""",
    # 4 school
    """\
काठमाडौं नजिकैको एउटा सामुदायिक विद्यालयले विद्यार्थीहरूका लागि नयाँ कम्प्युटर कक्षा सुरु गरेको छ। विदेशमा बस्ने केही नेपालीहरूले पठाएको सहयोग रकमबाट पन्ध्र थान कम्प्युटर किनिएका हुन्। अब कक्षा छदेखि दससम्मका विद्यार्थीहरूले हप्तामा दुई पटक कम्प्युटर सिक्न पाउँछन्।

प्रधानाध्यापक हरि प्रसाद अधिकारीले भने कि धेरै विद्यार्थीले पहिलो पटक कम्प्युटर छोएका हुन्। उनीहरूले टाइप गर्न, सामान्य कागजात बनाउन र इन्टरनेटबाट सुरक्षित रूपमा जानकारी खोज्न सिकिरहेका छन्। शिक्षकहरूका लागि पनि छुट्टै तालिम आयोजना गरिएको छ। अभिभावकहरू यो परिवर्तनबाट निकै खुसी छन्। विद्यालयले आगामी वर्ष पुस्तकालयलाई पनि डिजिटल बनाउने योजना बनाएको छ।""",
    # 5 weather
    """\
मौसम पूर्वानुमान महाशाखाले आगामी तीन दिनसम्म देशका अधिकांश भागमा भारी वर्षा हुने सम्भावना रहेको जनाएको छ। विशेष गरी कोशी, गण्डकी र लुम्बिनी प्रदेशका पहाडी क्षेत्रमा पहिरो र बाढीको खतरा बढ्न सक्ने बताइएको छ।

नदी किनारमा बस्ने मानिसहरूलाई सतर्क रहन र आवश्यक परे सुरक्षित स्थानमा सर्न अनुरोध गरिएको छ। राजमार्गमा यात्रा गर्ने सवारी चालकहरूलाई पनि राति यात्रा नगर्न सुझाव दिइएको छ। किसानहरूका लागि भने यो वर्षा धान रोपाइँका लागि उपयोगी हुने विज्ञहरूको भनाइ छ। महाशाखाले रेडियो र आफ्नो वेबसाइटमार्फत नियमित जानकारी दिइरहने जनाएको छ।""",
    # 6 river
    """\
त्रिशूली नदी नेपालका सबैभन्दा चर्चित नदीहरूमध्ये एक हो। गर्मी याममा देश विदेशबाट धेरै पर्यटकहरू यहाँ र्याफ्टिङ गर्न आउँछन्। नदीको किनारमा रहेका साना होटल र रेस्टुरेन्टहरूले स्थानीय युवाहरूलाई रोजगारी दिएका छन्।

यही नदीमा केही जलविद्युत आयोजनाहरू पनि निर्माण भएका छन्, जसले देशलाई आवश्यक बिजुली उत्पादन गर्न मद्दत गर्छन्। तर वातावरणविद्हरूका अनुसार नदीमा फोहोर फाल्ने र बालुवा अत्यधिक निकाल्ने कामले माछा र अन्य जलचरहरूलाई असर पारेको छ। स्थानीय समुदायले नदी सफाइ अभियान चलाएर सबैलाई नदीको संरक्षणमा सहयोग गर्न आग्रह गरेका छन्। नदी सफा भए पर्यटक पनि बढ्ने उनीहरूको विश्वास छ।""",
]

CLEAN["hin"] = [
    # 1 farming (long: source of hin-part-1a)
    """\
उत्तर प्रदेश के कई ज़िलों में किसान अब पारंपरिक खेती के साथ-साथ सब्ज़ियों की खेती भी करने लगे हैं। पहले ज़्यादातर किसान केवल गेहूँ और धान उगाते थे, लेकिन बढ़ती लागत और कम मुनाफ़े के कारण उन्हें नए रास्ते तलाशने पड़े। अब वे टमाटर, भिंडी, लौकी और मिर्च जैसी फ़सलें उगाकर पास के शहरों की मंडियों में बेचते हैं।

सीतापुर ज़िले के किसान रमेश यादव ने बताया कि उन्होंने पिछले साल अपने दो बीघा खेत में टपक सिंचाई लगवाई थी। इससे पानी की बचत हुई और पौधों को ज़रूरत के हिसाब से नमी मिलती रही। उनका कहना है कि सब्ज़ियों से होने वाली आमदनी गेहूँ की तुलना में लगभग दोगुनी है।

कृषि विज्ञान केंद्र के अधिकारी किसानों को जैविक खाद बनाने और कीटों से बचाव के आसान तरीक़े भी सिखा रहे हैं। गाँव की महिलाओं ने एक स्वयं सहायता समूह बनाया है, जो बीज और खाद एक साथ ख़रीदता है ताकि सबको कम दाम पर सामान मिल सके। समूह की अध्यक्ष सुनीता देवी कहती हैं कि अब महिलाएँ भी खेती से जुड़े फ़ैसलों में बराबर की भागीदार हैं।

हालाँकि किसानों के सामने चुनौतियाँ कम नहीं हैं। मंडियों में दाम अचानक गिर जाते हैं और भंडारण की सुविधा न होने से कई बार सब्ज़ियाँ ख़राब हो जाती हैं। किसान चाहते हैं कि सरकार गाँवों के पास छोटे शीत भंडार बनवाए।""",
    # 2 health (exact copy: hin-exact-2a, punctuation spacing)
    """\
गर्मी के मौसम में लू लगने के मामले तेज़ी से बढ़ते हैं, इसलिए डॉक्टर लोगों को विशेष सावधानी बरतने की सलाह दे रहे हैं। ज़िला अस्पताल के वरिष्ठ चिकित्सक डॉ. अनिल शर्मा के अनुसार, दोपहर बारह बजे से तीन बजे के बीच धूप में निकलने से बचना चाहिए। अगर बाहर जाना ज़रूरी हो, तो सिर को कपड़े या टोपी से ढककर रखें और साथ में पानी की बोतल रखें।

उन्होंने बताया कि बच्चों और बुज़ुर्गों पर गर्मी का असर सबसे ज़्यादा होता है। दिन भर में कम से कम आठ से दस गिलास पानी पीना चाहिए, और नींबू पानी, छाछ या नारियल पानी भी फ़ायदेमंद है। तेज़ बुखार, चक्कर आना या उल्टी जैसे लक्षण दिखें तो तुरंत नज़दीकी स्वास्थ्य केंद्र पर जाना चाहिए।""",
    # 3 festival
    """\
दीवाली भारत का सबसे बड़ा और सबसे रंगीन त्योहार माना जाता है। त्योहार से कई दिन पहले ही लोग अपने घरों की सफ़ाई और रंगाई-पुताई शुरू कर देते हैं। बाज़ारों में मिठाइयों, दीयों, कपड़ों और उपहारों की दुकानों पर भारी भीड़ रहती है।

दीवाली की शाम को घरों में लक्ष्मी पूजा होती है और हर कोने में दीये जलाए जाते हैं। बच्चे नए कपड़े पहनकर पड़ोसियों और रिश्तेदारों के घर मिठाई बाँटने जाते हैं। पिछले कुछ वर्षों में कई शहरों में लोगों ने प्रदूषण कम करने के लिए पटाखों का इस्तेमाल घटाया है। बहुत से परिवार अब मिट्टी के दीये ख़रीदते हैं, जिससे गाँव के कुम्हारों को भी अच्छी आमदनी होती है।""",
    # 4 technology
    """\
पिछले कुछ वर्षों में छोटे शहरों और गाँवों में भी डिजिटल भुगतान का चलन तेज़ी से बढ़ा है। अब सब्ज़ी बेचने वाले, चाय की दुकान चलाने वाले और रिक्शा चालक भी मोबाइल फ़ोन से पैसे लेते हैं। दुकानों पर लगे क्यूआर कोड को स्कैन करके ग्राहक कुछ ही सेकंड में भुगतान कर देते हैं।

इंदौर में किराने की दुकान चलाने वाले मोहन लाल बताते हैं कि पहले उन्हें रोज़ छुट्टे पैसों की समस्या रहती थी, लेकिन अब यह परेशानी लगभग ख़त्म हो गई है। हालाँकि विशेषज्ञ चेतावनी देते हैं कि ऑनलाइन धोखाधड़ी के मामले भी बढ़ रहे हैं। वे सलाह देते हैं कि किसी अनजान व्यक्ति के साथ अपना पिन या ओटीपी कभी साझा न करें और संदिग्ध लिंक पर क्लिक न करें।""",
    # 5 river
    """\
यमुना नदी के किनारे बसे कई गाँवों के युवाओं ने नदी को साफ़ रखने के लिए एक अनोखी पहल शुरू की है। हर रविवार की सुबह वे घाटों पर इकट्ठा होते हैं और प्लास्टिक की थैलियाँ, बोतलें और दूसरा कचरा उठाते हैं। इस काम में अब स्कूल के बच्चे और बुज़ुर्ग भी उनका साथ देने लगे हैं।

समूह के संयोजक विकास कुमार का कहना है कि नदी केवल पानी का स्रोत नहीं, बल्कि हमारी संस्कृति का हिस्सा है। उन्होंने पंचायत से घाटों पर कूड़ेदान लगवाने की माँग की है। स्थानीय लोगों का मानना है कि अगर सभी मिलकर ज़िम्मेदारी लें, तो कुछ ही वर्षों में नदी का पानी फिर से साफ़ हो सकता है।""",
    # 6 cooking
    """\
खिचड़ी उत्तर भारत के घरों में बनने वाला एक सादा लेकिन बहुत पौष्टिक भोजन है। इसे बनाने के लिए एक कप चावल, आधा कप मूँग की दाल, हल्दी, नमक, जीरा और थोड़ा घी चाहिए। सर्दियों में लोग इसमें गाजर, मटर और फूलगोभी जैसी सब्ज़ियाँ भी डालते हैं।

सबसे पहले चावल और दाल को अच्छी तरह धोकर आधे घंटे के लिए भिगो दें। फिर कुकर में घी गरम करके जीरा डालें और उसके बाद दाल, चावल, हल्दी और नमक मिलाएँ। चार कप पानी डालकर तीन सीटी आने तक पकाएँ। गरम खिचड़ी को दही, पापड़ और अचार के साथ परोसें। बीमारी के बाद भी डॉक्टर अक्सर खिचड़ी खाने की सलाह देते हैं, क्योंकि यह आसानी से पच जाती है।""",
]

CLEAN["amh"] = [
    # 1 farming
    """\
በሰሜን ሸዋ የሚኖሩ አርሶ አደሮች በዚህ ዓመት የተሻሻለ የጤፍ ዘር በመጠቀም ምርታቸውን ለማሳደግ ተዘጋጅተዋል። የግብርና ባለሙያዎች አዲሱ ዘር ድርቅን የመቋቋም አቅም እንዳለው እና በአጭር ጊዜ እንደሚደርስ ገልጸዋል። ባለፈው ዓመት ዝናቡ ዘግይቶ በመጀመሩ ብዙ ማሳዎች ጥሩ ምርት አልሰጡም ነበር።

አቶ ታደሰ በቀለ የተባሉ አርሶ አደር እንደተናገሩት፣ አሁን ከጎረቤቶቻቸው ጋር በመሆን ማዳበሪያና ዘር በጋራ ይገዛሉ። ይህም ወጪያቸውን በከፍተኛ ሁኔታ እንደቀነሰላቸው ተናግረዋል። በተጨማሪም የአካባቢው ወጣቶች የውሃ ማጠራቀሚያ ጉድጓዶችን በመቆፈር በበጋ ወቅት አትክልት ለማልማት እየሠሩ ነው። አርሶ አደሮቹ በዚህ ዓመት ዝናቡ በወቅቱ ከጣለ ጥሩ ምርት እንደሚያገኙ ተስፋ አድርገዋል።""",
    # 2 health
    """\
የአዲስ አበባ ጤና ቢሮ በከተማዋ በሚገኙ ትምህርት ቤቶች የእጅ መታጠብ ዘመቻ ጀምሯል። የጤና ባለሙያዎች ተማሪዎችን በሳሙናና በንጹህ ውሃ እጃቸውን እንዴት በአግባቡ መታጠብ እንዳለባቸው እያስተማሩ ነው። ይህም እንደ ተቅማጥና ጉንፋን ያሉ በሽታዎችን ለመከላከል ይረዳል ተብሏል።

በቢሮው የሕብረተሰብ ጤና ባለሙያ የሆኑት ዶክተር ሰላማዊት ተስፋዬ እንዳሉት፣ ልጆች የተማሩትን ለቤተሰቦቻቸው ያስተላልፋሉ። ስለዚህ ዘመቻው በትምህርት ቤቶች ብቻ ሳይሆን በቤቶችም ውስጥ ለውጥ ያመጣል። ቢሮው በየትምህርት ቤቱ የውሃ ቧንቧዎችን ለመትከልም ዕቅድ አለው። ወላጆችም ልጆቻቸው ከመመገባቸው በፊት እጃቸውን እንዲታጠቡ እንዲያበረታቱ ጥሪ ቀርቧል። ዘመቻው እስከ ትምህርት ዓመቱ መጨረሻ ድረስ ይቀጥላል። በዘመቻው የተሳተፉ ተማሪዎችም ደስተኞች መሆናቸውን ገልጸዋል።""",
    # 3 town market
    """\
መርካቶ በአዲስ አበባ የሚገኝ እና በአፍሪካ ካሉ ትላልቅ ክፍት ገበያዎች አንዱ ነው። በዚህ ገበያ ውስጥ ከልብስና ጫማ ጀምሮ እስከ ቅመማ ቅመም፣ የቤት ዕቃዎችና የኤሌክትሮኒክስ መሣሪያዎች ድረስ ማግኘት ይቻላል። በየቀኑ በሺዎች የሚቆጠሩ ሰዎች ለመግዛትና ለመሸጥ ወደ ገበያው ይመጣሉ። ገበያው ከጠዋት ጀምሮ እስከ ምሽት ድረስ ሁልጊዜ በሰዎች የተሞላ ነው።

ለሃያ ዓመታት በርበሬና ሽሮ የሸጡት ወይዘሮ አልማዝ ደሳለኝ እንደሚሉት፣ በቅርቡ የታየው የዋጋ ጭማሪ ገዢዎችን አሳስቧል። ቢሆንም ደንበኞቻቸው የምርታቸውን ጥራት ስለሚያውቁ አሁንም ወደ እሳቸው ይመጣሉ። የከተማው አስተዳደር በገበያው ውስጥ ያሉትን ጠባብ መንገዶች ለማስፋትና የእሳት አደጋ መከላከያ መሣሪያዎችን ለመትከል ማቀዱን አስታውቋል።""",
    # 4 festival
    """\
የመስቀል በዓል በኢትዮጵያ ከሚከበሩ ታላላቅ ሃይማኖታዊ በዓላት አንዱ ነው። በዓሉ በየዓመቱ መስከረም አሥራ ሰባት ቀን ይከበራል። በዋዜማው ምሽት ሰዎች በአደባባይ ተሰብስበው ደመራ ያበራሉ፣ ይዘምራሉ፣ ይጨፍራሉ። በገጠር አካባቢዎች ደግሞ እያንዳንዱ ቤተሰብ በግቢው ውስጥ ትንሽ ደመራ ያበራል። በዓሉ ከአዲሱ ዓመት በኋላ ስለሚመጣ ሰዎች በደስታና በተስፋ ያከብሩታል።

በአዲስ አበባ በመስቀል አደባባይ የሚደረገው ሥነ ሥርዓት በሺዎች የሚቆጠሩ ምዕመናንና የውጭ አገር ጎብኚዎችን ይስባል። ካህናት በባህላዊ አልባሳት አሸብርቀው ይታያሉ፤ ወጣቶችም በተለያዩ የባህል ሙዚቃዎች በዓሉን ያደምቃሉ። ይህ በዓል በዩኔስኮ የዓለም ቅርስ ሆኖ ተመዝግቧል። ብዙ ቤተሰቦችም በዚህ ቀን ዘመድ አዝማድ ጠይቀው አብረው ይመገባሉ።""",
    # 5 weather (near copy: amh-near-5a)
    """\
የኢትዮጵያ ሚቲዎሮሎጂ ኢንስቲትዩት በሚቀጥሉት አሥር ቀናት በአብዛኛው የሀገሪቱ ክፍል ከባድ ዝናብ ሊኖር እንደሚችል አስታውቋል። በተለይ በምዕራብና በደቡብ ምዕራብ አካባቢዎች የጎርፍ አደጋ ሊከሰት እንደሚችል ተገልጿል። ከፍተኛ ነፋስና በረዶም ሊያጋጥም ስለሚችል ሕዝቡ ጥንቃቄ እንዲያደርግ ተጠይቋል።

በወንዞች ዳርቻና በዝቅተኛ ቦታዎች የሚኖሩ ነዋሪዎች ጥንቃቄ እንዲያደርጉ ተመክረዋል። አርሶ አደሮችም የደረሱ ሰብሎቻቸውን በፍጥነት እንዲሰበስቡ ጥሪ ቀርቧል። በሌላ በኩል ዝናቡ ለግድቦችና ለከርሰ ምድር ውሃ መሙላት ጠቃሚ እንደሚሆን ባለሙያዎች ገልጸዋል። ባለፈው ዓመት በተመሳሳይ ወቅት የጣለው ዝናብ በበርካታ ወረዳዎች ጉዳት አድርሶ ነበር። ስለዚህ ሁሉም ሰው መረጃዎቹን በትኩረት እንዲከታተል ተጠይቋል። ኢንስቲትዩቱ አዳዲስ መረጃዎችን በሬዲዮ፣ በቴሌቪዥንና በድረ ገጹ በየቀኑ እንደሚያቀርብ አስታውቋል።""",
    # 6 cooking
    """\
የቡና ሥነ ሥርዓት በኢትዮጵያውያን ቤቶች ውስጥ ትልቅ ቦታ አለው። ብዙውን ጊዜ የቤቱ እመቤት አረንጓዴውን የቡና ፍሬ በውሃ አጥባ በምጣድ ላይ ትቆላዋለች። የተቆላው ቡና መዓዛ ቤቱን ሲሞላው እንግዶች ይደሰታሉ።

ከዚያም ቡናው በሙቀጫ ተወቅጦ በጀበና ውስጥ ከውሃ ጋር ይፈላል። ቡናው በትናንሽ ሲኒዎች ለእንግዶች ይቀርባል፣ ብዙውን ጊዜ ከፈንዲሻ ወይም ከዳቦ ጋር። ሥነ ሥርዓቱ ሦስት ዙር አለው፤ እነሱም አቦል፣ ቶናና በረካ ይባላሉ። ጎረቤቶችና ጓደኞች በቡና ዙሪያ ተቀምጠው ስለ ዕለቱ ወሬ፣ ስለ ቤተሰብና ስለ ማኅበረሰቡ ጉዳዮች ይወያያሉ። ስለዚህ ቡና መጠጣት ብቻ ሳይሆን የመገናኛና የመተሳሰብ ጊዜ ነው።""",
]

CLEAN["arb"] = [
    # 1 farming
    """\
بدأ المزارعون في واحات جنوب البلاد موسم جني التمور هذا الأسبوع، وسط توقعات بمحصول أفضل من العام الماضي. وقد ساعدت الأمطار التي هطلت في الشتاء على تحسين حالة النخيل، كما لجأ كثير من المزارعين إلى أنظمة الري بالتنقيط لتوفير المياه.

ويقول المزارع سالم الحربي إن أسعار التمور في الأسواق المحلية مستقرة حتى الآن، لكنه يخشى من ارتفاع تكاليف النقل والتغليف. وأضاف أن الجمعية الزراعية في القرية تساعد صغار المزارعين على تسويق إنتاجهم في المدن الكبرى. ويأمل المزارعون أن تدعم الجهات الحكومية إنشاء مخازن مبردة قريبة من الواحات، حتى لا تتلف الثمار قبل وصولها إلى المستهلك.""",
    # 2 health
    """\
أطلقت وزارة الصحة حملة توعية واسعة حول أهمية النشاط البدني والتغذية السليمة للوقاية من أمراض القلب والسكري. وتشمل الحملة محاضرات في المدارس والمراكز الصحية، إضافة إلى رسائل قصيرة عبر وسائل التواصل الاجتماعي.

وقالت الدكتورة ليلى منصور، مديرة الحملة، إن المشي لمدة نصف ساعة يوميًا يمكن أن يقلل من خطر الإصابة بكثير من الأمراض المزمنة. ونصحت بالإكثار من تناول الخضروات والفواكه، والتقليل من السكر والملح والأطعمة المقلية. كما دعت الآباء إلى تشجيع أطفالهم على اللعب في الهواء الطلق بدلًا من الجلوس ساعات طويلة أمام الشاشات. وتستمر الحملة حتى نهاية العام في جميع المحافظات.""",
    # 3 town market
    """\
يعد السوق القديم في وسط المدينة من أكثر الأماكن حيوية، خاصة في الأيام التي تسبق شهر رمضان. تمتلئ الأزقة الضيقة بالمتسوقين الذين يبحثون عن التوابل والتمور والمكسرات والأقمشة. وتفوح من المحلات رائحة القهوة والهيل والخبز الطازج.

ويقول أبو خالد، الذي يبيع البهارات منذ أكثر من ثلاثين عامًا، إن السوق حافظ على طابعه التقليدي رغم انتشار المراكز التجارية الحديثة. وأوضح أن كثيرًا من الزبائن يفضلون الشراء من التجار الذين يعرفونهم منذ سنوات طويلة. وتعمل البلدية حاليًا على ترميم بعض المباني القديمة وتحسين الإضاءة في الممرات، بهدف جذب مزيد من الزوار والسياح.""",
    # 4 school (near copy: arb-near-4a)
    """\
افتتحت مدرسة ابتدائية في إحدى القرى الريفية مكتبة جديدة بفضل تبرعات الأهالي ومساهمة جمعية خيرية محلية. وتضم المكتبة أكثر من ثلاثة آلاف كتاب في القصص والعلوم والتاريخ والجغرافيا، إلى جانب ركن خاص للأطفال الصغار.

وقال مدير المدرسة الأستاذ محمود عبد الله إن الهدف الرئيسي هو غرس حب القراءة في نفوس التلاميذ منذ الصغر. وأضاف أن كل فصل سيحصل على حصة أسبوعية للقراءة الحرة داخل المكتبة، كما يمكن للأهالي استعارة الكتب يوم السبت. وأعرب عدد من أولياء الأمور عن سعادتهم بهذه الخطوة، مؤكدين أن أطفالهم أصبحوا يقضون وقتًا أطول في القراءة بدلًا من مشاهدة التلفاز.""",
    # 5 weather
    """\
توقعت هيئة الأرصاد الجوية أن تشهد معظم المناطق الساحلية ارتفاعًا ملحوظًا في درجات الحرارة خلال الأيام المقبلة، مع نسبة رطوبة عالية في ساعات الصباح. وقد تصل درجات الحرارة في بعض المدن الداخلية إلى خمس وأربعين درجة مئوية.

ونصحت الهيئة المواطنين بتجنب التعرض المباشر لأشعة الشمس في وقت الظهيرة، والإكثار من شرب الماء، وعدم ترك الأطفال داخل السيارات المغلقة. كما حذرت من احتمال تشكل الضباب على الطرق السريعة في الصباح الباكر، ودعت السائقين إلى تخفيف السرعة وترك مسافة كافية بين المركبات. وستصدر الهيئة نشرات محدثة بشكل يومي عبر موقعها الإلكتروني.""",
    # 6 river
    """\
يمثل نهر النيل شريان الحياة لملايين الناس الذين يعيشون على ضفافه منذ آلاف السنين. فمن مياهه يشرب السكان، وعليه يعتمد المزارعون في ري حقول القمح والقطن والأرز. كما يستخدمه الصيادون مصدرًا للرزق، وتعبر عليه المراكب التي تنقل الركاب والبضائع.

لكن النهر يواجه اليوم تحديات كبيرة، منها التلوث الناتج عن المخلفات الصناعية والزراعية، وزيادة الطلب على المياه مع نمو السكان. ويدعو الخبراء إلى ترشيد استهلاك المياه في المنازل والحقول، واستخدام طرق ري حديثة. وقد أطلقت مجموعات من الشباب مبادرات لتنظيف ضفاف النهر وتوعية الأهالي بأهمية الحفاظ عليه للأجيال القادمة.""",
]

CLEAN["rus"] = [
    # 1 farming (near copy: rus-near-1a)
    """\
В этом году фермеры Воронежской области начали посевную раньше обычного: весна выдалась тёплой, и почва быстро прогрелась. Многие хозяйства перешли на новые сорта пшеницы и подсолнечника, которые лучше переносят засуху. Агрономы советуют не экономить на качественных семенах, потому что от них во многом зависит будущий урожай.

Фермер Николай Петров обрабатывает около двухсот гектаров земли вместе с сыновьями. По его словам, главная проблема сейчас — высокие цены на топливо и удобрения. Чтобы снизить расходы, несколько соседних хозяйств объединились и вместе закупают технику. Николай надеется, что погода в течение лета будет благоприятной и осенью удастся собрать хороший урожай.""",
    # 2 health
    """\
Врачи напоминают, что с наступлением осени резко возрастает число простудных заболеваний. Чтобы защитить себя и близких, важно соблюдать простые правила: чаще мыть руки, регулярно проветривать помещения и одеваться по погоде. Особенно внимательными нужно быть родителям маленьких детей и людям старшего возраста.

Терапевт городской поликлиники Елена Смирнова советует не забывать о полноценном сне и сбалансированном питании. В рационе должно быть достаточно овощей, фруктов и белка. Если появились высокая температура, сильный кашель или затруднённое дыхание, не стоит заниматься самолечением — лучше сразу обратиться к врачу. В поликлиниках города уже началась бесплатная вакцинация против гриппа.""",
    # 3 school
    """\
В сельской школе посёлка Берёзовка открылся новый кабинет робототехники. Оборудование закупили на средства регионального гранта, который школа выиграла весной. Теперь ученики с пятого по девятый класс могут два раза в неделю собирать и программировать небольших роботов.

Учитель информатики Андрей Васильевич рассказывает, что интерес к занятиям превзошёл все ожидания: желающих оказалось почти в два раза больше, чем мест в кружке. Ребята уже готовятся к областным соревнованиям, которые пройдут в декабре. Родители тоже довольны, ведь раньше таких возможностей у сельских детей практически не было. Директор школы надеется, что в следующем году удастся открыть ещё одну группу.""",
    # 4 river (long: source of rus-part-4a)
    """\
Небольшая река Сосна, которая протекает через наш город, долгое время оставалась без внимания. Берега зарастали кустарником, а после каждого половодья на них скапливались пластиковые бутылки, пакеты и старые покрышки. Местные жители жаловались, что летом рядом с водой неприятно находиться, а рыбы в реке становится всё меньше.

Три года назад группа студентов местного колледжа решила изменить ситуацию. Они создали волонтёрское движение и начали по субботам выходить на уборку берегов. Сначала на субботники приходило не больше десяти человек, но постепенно к ним присоединились школьники, пенсионеры и целые семьи. За первый сезон волонтёры вывезли более двадцати тонн мусора.

Городская администрация поддержала инициативу: вдоль реки установили урны и информационные щиты, а на самом живописном участке обустроили пешеходную тропу с лавочками. Экологи из областного университета регулярно берут пробы воды и отмечают, что её качество заметно улучшилось. В прошлом году рыбаки впервые за долгое время снова увидели в реке щуку и голавля.

Организаторы движения не собираются останавливаться. Следующим летом они планируют высадить вдоль берега несколько сотен молодых деревьев и провести для детей экологический лагерь. По словам руководителя волонтёров Марии Кузнецовой, главное — показать людям, что даже небольшие усилия могут изменить родной город к лучшему.""",
    # 5 cooking
    """\
Блины — одно из самых любимых блюд русской кухни, особенно на Масленицу. Для классических блинов понадобятся пол-литра молока, два яйца, стакан муки, две столовые ложки сахара, щепотка соли и немного растительного масла.

Сначала взбейте яйца с сахаром и солью, затем влейте половину молока и постепенно добавьте муку, постоянно помешивая, чтобы не было комочков. После этого влейте оставшееся молоко и масло. Тесто должно получиться жидким, как нежирные сливки. Разогрейте сковороду, смажьте её маслом и наливайте тесто тонким слоем. Жарьте каждый блин около минуты с каждой стороны до золотистого цвета. Подавать блины можно со сметаной, мёдом, вареньем или красной икрой.""",
    # 6 football
    """\
В воскресенье на городском стадионе прошёл финал детского футбольного турнира, в котором приняли участие шестнадцать команд со всей области. Несмотря на дождь, трибуны были почти полностью заполнены: поддержать юных спортсменов пришли родители, друзья и тренеры.

Первый тайм завершился вничью, однако во второй половине матча хозяева поля действовали смелее и забили два мяча. Лучшим игроком турнира признали двенадцатилетнего нападающего Артёма Соколова, который забил семь голов за пять игр. Главный тренер команды поблагодарил ребят за характер и упорство. Он отметил, что многие из этих мальчишек тренируются вместе уже четыре года, и сегодняшняя победа стала для них наградой за труд.""",
]

CLEAN["zho"] = [
    # 1 farming (exact copies: zho-exact-1a identical, zho-exact-1b whitespace)
    """\
今年春天，云南省不少山区村庄的茶农迎来了好收成。由于冬季雨水充足，茶树发芽比往年早了将近一周，新茶的香气也更加浓郁。为了提高收入，许多农户开始学习有机种植技术，减少化肥和农药的使用。

村里的合作社负责人李明说，现在大家把采摘下来的茶叶统一加工、统一包装，再通过网络直播卖到全国各地。去年合作社的销售额比前年增长了三成，不少在外打工的年轻人也陆续回到家乡。李明希望，未来能够建设一个小型茶文化展示馆，吸引更多游客来村里参观和体验采茶。""",
    # 2 health
    """\
随着天气逐渐变冷，医院呼吸科的门诊量明显增加。医生提醒市民，秋冬季节是流感等呼吸道疾病的高发期，老人、儿童和患有慢性病的人群更要注意防护。

专家建议，大家应当保持规律的作息，每天保证充足的睡眠，多吃新鲜蔬菜和水果，适当进行户外锻炼。在人员密集的场所最好佩戴口罩，回家后要及时用肥皂洗手。如果出现持续高烧、咳嗽加重或呼吸困难等症状，应尽快到正规医院就诊，不要自行乱用药物。目前，本市各社区卫生服务中心已经开始为老年人免费接种流感疫苗。""",
    # 3 town market
    """\
每到周末，老城区的菜市场总是格外热闹。天刚蒙蒙亮，附近的农民就推着三轮车赶来，车上装满了刚从地里摘下的青菜、西红柿、黄瓜和新鲜鸡蛋。卖早点的摊位前排起了长队，油条和豆浆的香味飘满了整条街。

在这里卖了二十多年蔬菜的王阿姨说，虽然现在很多人习惯在手机上买菜，但老顾客还是喜欢来市场挑选，因为可以看得见、摸得着，还能和摊主聊上几句。去年，区政府对市场进行了改造，地面变得干净整洁，还安装了电子秤和扫码支付设备，买菜比以前方便多了。""",
    # 4 school
    """\
为了让乡村孩子也能享受到优质的教育资源，县里的几所小学今年开通了远程互动课堂。通过网络，山区学校的学生可以和城里的学生一起上英语、音乐和美术课，还能在屏幕上直接向老师提问。

五年级学生小芳说，以前学校没有专门的音乐老师，现在每周都能跟着城里的老师学唱歌，她觉得非常开心。校长介绍，学校还为每个班级配备了图书角，鼓励孩子们每天阅读半小时。下一步，县教育局计划组织城乡教师定期交流，帮助乡村教师提高教学水平。""",
    # 5 festival
    """\
中秋节是中国重要的传统节日之一，时间在每年农历八月十五。这一天晚上，月亮又圆又亮，人们常常和家人围坐在一起，一边赏月，一边品尝月饼和各种水果。

月饼的种类很多，有豆沙、五仁、莲蓉，也有近年来流行的冰皮和水果口味。在一些地方，孩子们还会提着灯笼上街游玩，或者参加猜灯谜活动。对于在外地工作和学习的人来说，中秋节更是一个思念家乡和亲人的日子。即使不能回家，很多人也会通过视频电话向父母问候，表达团圆的心愿。""",
    # 6 river
    """\
长江是中国最长的河流，全长六千三百多公里，流经十几个省、自治区和直辖市。千百年来，长江不仅为沿岸人民提供了水源和丰富的渔业资源，也孕育了灿烂的文化。

然而，由于过度捕捞和环境污染，长江里的鱼类数量曾经大幅减少。为了保护长江的生态环境，国家从二零二一年开始在长江重点水域实行十年禁渔。许多原来以打鱼为生的渔民上岸转产，有的开起了农家乐，有的成为了巡护员，负责监督和保护江面。近几年，人们在江中看到江豚的次数明显增多，这说明保护工作已经初见成效。""",
]

CLEAN["tha"] = [
    # 1 farming
    """\
ชาวนาในจังหวัดสุรินทร์เริ่มเตรียมแปลงนาสำหรับปลูกข้าวหอมมะลิแล้ว หลังจากฝนแรกของฤดูตกลงมาเมื่อสัปดาห์ที่ผ่านมา ปีนี้เกษตรกรหลายครอบครัวหันมาใช้ปุ๋ยอินทรีย์จากมูลวัวและเศษพืช เพื่อลดต้นทุนและรักษาคุณภาพของดิน

นายสมชาย ใจดี ผู้ใหญ่บ้านกล่าวว่า กลุ่มเกษตรกรในหมู่บ้านได้รวมตัวกันขายข้าวโดยตรงให้กับร้านค้าในกรุงเทพฯ ทำให้ได้ราคาดีกว่าการขายผ่านพ่อค้าคนกลาง เขาหวังว่าปีนี้ฝนจะตกตามฤดูกาลและได้ผลผลิตที่ดี""",
    # 2 health
    """\
กระทรวงสาธารณสุขเตือนประชาชนให้ระวังโรคไข้เลือดออกในช่วงฤดูฝน เนื่องจากยุงลายสามารถแพร่พันธุ์ได้ง่ายในแหล่งน้ำขัง เจ้าหน้าที่แนะนำให้ทุกบ้านคว่ำภาชนะที่ไม่ใช้ ปิดฝาโอ่งน้ำให้มิดชิด และเปลี่ยนน้ำในแจกันทุกสัปดาห์

แพทย์หญิงวรรณา ศรีสุข กล่าวว่า หากมีไข้สูงติดต่อกันหลายวัน ปวดศีรษะ หรือมีจุดแดงตามผิวหนัง ควรรีบไปพบแพทย์ทันที และไม่ควรซื้อยาแก้ปวดมากินเอง เพราะยาบางชนิดอาจทำให้อาการรุนแรงขึ้น""",
    # 3 town market (near copy: tha-near-3a)
    """\
ตลาดน้ำแห่งนี้เปิดทุกวันเสาร์และวันอาทิตย์ตั้งแต่เช้าตรู่ แม่ค้าพายเรือนำผลไม้ ผัก และอาหารพื้นบ้านมาขายตามลำคลอง นักท่องเที่ยวนิยมมาชิมก๋วยเตี๋ยวเรือและขนมไทยที่ทำสดใหม่ทุกวัน

ป้าสมศรีซึ่งขายมะม่วงและทุเรียนมานานกว่ายี่สิบปีเล่าว่า ลูกค้าประจำยังกลับมาซื้อของที่ตลาดเสมอ เพราะชอบบรรยากาศแบบดั้งเดิมและความเป็นกันเองของแม่ค้า ทางเทศบาลกำลังปรับปรุงท่าเรือและทางเดินริมคลองเพื่อความปลอดภัยของผู้มาเยือน""",
    # 4 festival
    """\
ลอยกระทงเป็นประเพณีสำคัญของไทยที่จัดขึ้นในคืนวันเพ็ญเดือนสิบสอง ผู้คนจะนำกระทงที่ทำจากใบตองและดอกไม้ ประดับด้วยธูปและเทียน ไปลอยในแม่น้ำ ลำคลอง หรือบึงใกล้บ้าน เพื่อขอขมาพระแม่คงคาและอธิษฐานขอสิ่งดี ๆ

ในช่วงหลายปีที่ผ่านมา หลายจังหวัดรณรงค์ให้ใช้กระทงที่ย่อยสลายได้ง่าย เช่น กระทงจากขนมปังหรือต้นกล้วย เพื่อลดขยะในแหล่งน้ำ บางครอบครัวเลือกลอยกระทงใบเดียวร่วมกันทั้งบ้าน ซึ่งช่วยลดปริมาณขยะได้มาก""",
    # 5 cooking
    """\
ต้มยำกุ้งเป็นอาหารไทยที่มีชื่อเสียงไปทั่วโลก รสชาติเปรี้ยว เผ็ด และหอมกลิ่นสมุนไพร วัตถุดิบหลักได้แก่ กุ้งสด ตะไคร้ ข่า ใบมะกรูด พริกขี้หนู น้ำมะนาว น้ำปลา และเห็ดฟาง

เริ่มจากต้มน้ำให้เดือด ใส่ตะไคร้ ข่า และใบมะกรูดลงไปเพื่อให้มีกลิ่นหอม จากนั้นใส่เห็ดและกุ้ง ต้มจนกุ้งสุกพอดี ปิดไฟแล้วจึงปรุงรสด้วยน้ำปลา น้ำมะนาว และพริกขี้หนูบุบ หากชอบแบบน้ำข้นให้เติมนมข้นจืดหรือน้ำพริกเผาเล็กน้อย ควรเสิร์ฟขณะที่ยังร้อนพร้อมข้าวสวย""",
    # 6 technology
    """\
โรงเรียนประถมหลายแห่งในภาคเหนือเริ่มใช้แท็บเล็ตในการเรียนการสอน เพื่อให้นักเรียนในพื้นที่ห่างไกลเข้าถึงบทเรียนที่ทันสมัยมากขึ้น ครูสามารถเปิดวิดีโอวิทยาศาสตร์ แบบฝึกหัดคณิตศาสตร์ และนิทานภาษาอังกฤษให้นักเรียนดูได้ แม้ในห้องเรียนที่ไม่มีอินเทอร์เน็ต

ครูมาลี ทองคำ กล่าวว่า นักเรียนตั้งใจเรียนมากขึ้นและกล้าถามคำถามมากกว่าเดิม อย่างไรก็ตาม โรงเรียนยังต้องการงบประมาณสำหรับซ่อมแซมอุปกรณ์และอบรมครูเพิ่มเติม""",
]

CLEAN["ell"] = [
    # 1 farming
    """\
Στα χωριά της Μεσσηνίας η συγκομιδή της ελιάς ξεκίνησε νωρίτερα φέτος, καθώς ο καιρός παρέμεινε ζεστός και ξηρός μέχρι τα μέσα του φθινοπώρου. Οι παραγωγοί εκτιμούν ότι η ποσότητα του λαδιού θα είναι μικρότερη από πέρυσι, αλλά η ποιότητα πολύ καλή.

Ο κύριος Γιώργος Παπαδόπουλος, που καλλιεργεί τα κτήματα της οικογένειάς του εδώ και τριάντα χρόνια, λέει ότι το μεγαλύτερο πρόβλημα είναι η έλλειψη εργατών. Πολλοί νέοι έχουν φύγει για την πόλη, γι' αυτό οι αγρότες βοηθούν ο ένας τον άλλον στο μάζεμα. Ο τοπικός συνεταιρισμός σχεδιάζει να πουλήσει μέρος της παραγωγής απευθείας σε καταστήματα του εξωτερικού, ώστε οι παραγωγοί να έχουν καλύτερη τιμή.""",
    # 2 health
    """\
Οι γιατροί υπενθυμίζουν ότι η καλή υγεία ξεκινά από τις απλές καθημερινές συνήθειες. Το περπάτημα για μισή ώρα κάθε μέρα, ο επαρκής ύπνος και η σωστή διατροφή μειώνουν σημαντικά τον κίνδυνο για καρδιακές παθήσεις και διαβήτη.

Η παθολόγος Ελένη Νικολάου συστήνει να τρώμε περισσότερα λαχανικά, όσπρια και φρούτα, να χρησιμοποιούμε ελαιόλαδο αντί για βούτυρο και να περιορίζουμε το αλάτι και τη ζάχαρη. Τονίζει επίσης ότι οι τακτικές προληπτικές εξετάσεις είναι απαραίτητες μετά τα σαράντα, ακόμη κι αν δεν υπάρχουν συμπτώματα. Το κέντρο υγείας της πόλης προσφέρει δωρεάν μέτρηση πίεσης και σακχάρου κάθε Τετάρτη πρωί.""",
    # 3 town market (exact copies: ell-exact-3a identical, ell-exact-3b whitespace)
    """\
Κάθε Σάββατο πρωί η λαϊκή αγορά της γειτονιάς μας γεμίζει κόσμο. Οι πάγκοι είναι φορτωμένοι με φρέσκα λαχανικά, φρούτα της εποχής, αυγά, μέλι και τυριά από τα γύρω χωριά. Οι πωλητές φωνάζουν τις τιμές τους και οι πελάτες συγκρίνουν προσεκτικά πριν αγοράσουν.

Η κυρία Μαρία πουλάει ντομάτες και αγγούρια στη λαϊκή εδώ και είκοσι χρόνια. Λέει ότι οι τιμές έχουν ανέβει λόγω του κόστους μεταφοράς, αλλά οι πιστοί πελάτες της συνεχίζουν να έρχονται, επειδή ξέρουν ότι τα προϊόντα της είναι φρέσκα. Για πολλούς ηλικιωμένους κατοίκους, η βόλτα στη λαϊκή είναι και μια ευκαιρία να συναντήσουν φίλους και να τα πουν.""",
    # 4 school
    """\
Σε ένα μικρό δημοτικό σχολείο της Κρήτης οι μαθητές φύτεψαν φέτος τον δικό τους λαχανόκηπο στην αυλή. Με τη βοήθεια των δασκάλων και των γονιών, καλλιεργούν ντομάτες, μαρούλια, φασόλια και αρωματικά φυτά.

Η διευθύντρια του σχολείου εξηγεί ότι ο κήπος είναι ένα ζωντανό μάθημα: τα παιδιά μαθαίνουν για τη φύση, μετρούν την ανάπτυξη των φυτών στα μαθηματικά και γράφουν εκθέσεις για την εμπειρία τους. Κάθε εβδομάδα μια διαφορετική τάξη αναλαμβάνει το πότισμα. Στο τέλος της χρονιάς, τα λαχανικά χρησιμοποιήθηκαν για μια γιορτή με σαλάτες και πίτες, στην οποία κάλεσαν όλες τις οικογένειες του χωριού.""",
    # 5 weather
    """\
Η Εθνική Μετεωρολογική Υπηρεσία εξέδωσε έκτακτο δελτίο επιδείνωσης του καιρού για τα επόμενα δύο εικοσιτετράωρα. Αναμένονται ισχυρές βροχές και καταιγίδες, κυρίως στη δυτική Ελλάδα και στα νησιά του Ιονίου, ενώ οι άνεμοι στο Αιγαίο θα φτάσουν τα οκτώ μποφόρ.

Οι αρχές συστήνουν στους πολίτες να αποφεύγουν τις άσκοπες μετακινήσεις και να μη διασχίζουν χειμάρρους, ούτε με τα πόδια ούτε με το αυτοκίνητο. Ενδέχεται να υπάρξουν καθυστερήσεις στα δρομολόγια των πλοίων. Από την Κυριακή ο καιρός αναμένεται να βελτιωθεί, με άνοδο της θερμοκρασίας και ηλιοφάνεια στα περισσότερα μέρη της χώρας.""",
    # 6 cooking
    """\
Τα γεμιστά είναι ένα από τα πιο αγαπημένα καλοκαιρινά φαγητά στην Ελλάδα. Για να τα φτιάξετε χρειάζεστε μεγάλες ντομάτες και πιπεριές, ρύζι, κρεμμύδι, σκόρδο, μαϊντανό, δυόσμο, ελαιόλαδο, αλάτι και πιπέρι.

Κόψτε το πάνω μέρος από τις ντομάτες και αδειάστε τη σάρκα τους με ένα κουτάλι. Ψιλοκόψτε τη σάρκα και σοτάρετέ τη σε ελαιόλαδο μαζί με το κρεμμύδι και το σκόρδο. Προσθέστε το ρύζι και τα μυρωδικά και ανακατέψτε για λίγα λεπτά. Γεμίστε τα λαχανικά, τοποθετήστε τα σε ταψί με κομμένες πατάτες ανάμεσα και ψήστε τα για περίπου μία ώρα. Σερβίρονται ζεστά ή χλιαρά, με φέτα και φρέσκο ψωμί.""",
]

# Clean documents that live in the other files, by id.
BAD_UTF8_NEIGHBOURS = {
    # river and fishing
    "hau-clean-7": """\
Masunta a gaɓar kogin Kwara sun koka kan raguwar kifi a cikin 'yan shekarun nan. Sun ce a da suna kama kifi masu yawa a cikin dare ɗaya, amma yanzu sai sun kwana biyu ko uku kafin su cika kwandunansu. Wasu daga cikinsu sun danganta matsalar da amfani da ragar da ke kama ƙananan kifi kafin su girma.

Shugaban ƙungiyar masunta na yankin, Malam Garba Usman, ya ce sun fara wayar da kan membobinsu kan muhimmancin barin ƙananan kifi su girma. Ya kuma roƙi gwamnati ta taimaka musu da kwale-kwale na zamani da wuraren ajiye kifi masu sanyi, domin kifin da suke kamawa kada ya lalace kafin ya isa kasuwa.""",
    # football
    "ell-clean-7": """\
Με μια εντυπωσιακή εμφάνιση, η ομάδα της πόλης μας κέρδισε την Κυριακή τον τελικό του περιφερειακού πρωταθλήματος νέων. Το γήπεδο ήταν γεμάτο από γονείς, φίλους και παλιούς ποδοσφαιριστές που ήρθαν να στηρίξουν τα παιδιά.

Το πρώτο ημίχρονο έληξε χωρίς γκολ, όμως στο δεύτερο οι γηπεδούχοι πίεσαν περισσότερο και σκόραραν δύο φορές μέσα σε δέκα λεπτά. Ο προπονητής δήλωσε ότι η επιτυχία οφείλεται στη σκληρή δουλειά και στο ομαδικό πνεύμα των παικτών. Τόνισε επίσης ότι το σημαντικότερο για εκείνον δεν είναι μόνο οι νίκες, αλλά να μάθουν τα παιδιά να σέβονται τους αντιπάλους και να αγαπούν το άθλημα.""",
}

FORUM_POSTS = {
    "eng-forum-1": """\
Has anyone here tried growing sweet potatoes in containers? I live in a flat with a small balcony, and last spring I planted three slips in an old plastic bin filled with compost and sand. The vines grew quickly and covered half the railing, which my neighbours found amusing. When I finally tipped the bin out in October, I found about four kilos of potatoes, some of them surprisingly large.

My advice is to drill plenty of holes in the bottom, water deeply but not every day, and be patient. I would love to hear what varieties other people have had success with.""",
    "eng-forum-2": """\
I started cycling to work in January, mostly to save money on bus fares, and I did not expect to enjoy it as much as I do. The route is about eight kilometres each way, with one steep hill near the hospital. For the first two weeks I arrived tired and sweaty, but now the ride feels easy and I sleep much better at night. The biggest problem is the lack of safe bike lanes on the main road. If you are thinking of trying it, buy good lights, wear something bright, and plan a quieter route through the side streets even if it takes a little longer.""",
    "eng-forum-3": """\
Our public library has started free evening classes for adults who want to improve their reading and writing. I volunteer there on Wednesdays, and it has been one of the most rewarding things I have done. Some of the learners are grandparents who never had the chance to finish school, while others are young workers who need better skills for a job interview. We read short newspaper articles together, practise filling in forms and write simple letters. The classes are small and friendly, and nobody is ever made to feel embarrassed. If your town has a similar programme, I strongly recommend offering an hour of your time.""",
    "swh-forum-1": """\
Ndugu wanajamvi, nataka kuzungumzia usalama wa bodaboda katika mji wetu. Kila wiki tunasikia habari za ajali za pikipiki katika barabara zetu, na mara nyingi waendeshaji hawavai kofia ngumu wala abiria hawapewi kofia. Kwa maoni yangu, tatizo kubwa ni kwamba vijana wengi wa mji wetu huanza kazi ya bodaboda bila mafunzo yoyote ya udereva. Mwaka jana peke yake, hospitali ya wilaya ilipokea majeruhi wengi wa ajali za bodaboda kuliko wa aina nyingine yoyote ya ajali. Serikali za mitaa zingeweza kuandaa mafunzo ya bure na kuwapa leseni kwa gharama nafuu. Sisi abiria pia tuna jukumu la kukataa kupanda pikipiki bila kofia, na kuwaomba madereva waendeshe kwa mwendo wa wastani katika maeneo ya mjini. Je, katika maeneo yenu hali ikoje?""",
    "swh-forum-2": """\
Jana nilienda uwanjani kutazama mechi ya ligi kati ya timu ya mji wetu na wageni kutoka Arusha. Uwanja ulijaa mashabiki, na kelele za ngoma na vuvuzela zilisikika hadi mtaa wa pili. Timu yetu ilianza vizuri na kupata bao la kwanza katika dakika ya kumi na tano, lakini wageni walisawazisha kabla ya mapumziko. Kipindi cha pili kilikuwa kigumu, na mlinda mlango wetu aliokoa mipira mingi ya hatari. Mwishowe mechi iliisha kwa sare ya bao moja kwa moja. Kwa maoni yangu, kocha anahitaji kuwapa nafasi wachezaji vijana zaidi katika safu ya ushambuliaji.""",
    "swh-forum-3": """\
Naomba ushauri kuhusu kutumia huduma za kifedha kwa simu. Mama yangu anaishi kijijini na mimi ninafanya kazi mjini, kwa hiyo kila mwezi namtumia pesa kwa njia ya simu. Hivi karibuni amepokea ujumbe kadhaa kutoka kwa watu wasiojulikana wakimtaka atume namba yake ya siri. Nimemwambia asitume namba hiyo kwa mtu yeyote, hata kama mtu anajifanya kuwa mfanyakazi wa kampuni ya simu. Je, kuna njia nyingine za kuwalinda wazee wetu dhidi ya matapeli hawa? Ningependa pia kujua kuhusu programu rahisi ya simu inayoweza kumsaidia kuona salio lake bila kwenda kwa wakala.""",
    "arb-forum-1": """\
السلام عليكم، أريد أن أشارككم طريقة تحضير شوربة العدس التي تعلمتها من جدتي. أنقع كوبًا من العدس الأحمر لمدة ساعة، ثم أغسله جيدًا. في قدر كبير أقلي البصل المفروم مع قليل من زيت الزيتون حتى يصبح ذهبيًا، ثم أضيف الجزر والكمون والعدس وأغطيه بالماء. أتركه على نار هادئة نصف ساعة تقريبًا، ثم أهرسه بالخلاط وأضيف الملح وعصير الليمون. هذه الشوربة رخيصة ومغذية ومناسبة جدًا لأيام الشتاء الباردة. أحيانًا أضيف حبة بطاطس صغيرة لتصبح الشوربة أكثر كثافة، وأقدمها مع الخبز المحمص. هل لديكم إضافات أخرى تجعل طعمها أفضل؟""",
    "arb-forum-2": """\
شاهدت أمس مباراة فريقنا المحلي في الدوري، وكانت من أجمل المباريات هذا الموسم. بدأ الفريق الضيف بقوة وسجل هدفًا مبكرًا، لكن لاعبينا لم يستسلموا وواصلوا الضغط حتى جاء هدف التعادل قبل نهاية الشوط الأول. وفي الشوط الثاني تألق حارس المرمى وأنقذ عدة كرات خطيرة، ثم سجل المهاجم الشاب هدف الفوز برأسية رائعة في الدقائق الأخيرة. أعتقد أن المدرب يستحق الإشادة لأنه منح الفرصة للاعبين الصغار. كان الجمهور رائعًا طوال المباراة، ولم يتوقف عن التشجيع رغم المطر الغزير. ما رأيكم في أداء خط الوسط؟""",
    "zho-forum-1": """\
想请教大家一个问题：家里老人刚换了智能手机，但总是不会用。我已经教他怎么打视频电话和发语音消息，可是过几天他又忘了。有没有什么好办法，能让老人更快学会使用手机？我听说有的手机有“长辈模式”，字体更大，图标也更简单，不知道好不好用。另外，最近诈骗电话和短信特别多，我也担心老人上当受骗。大家平时是怎么提醒家里长辈注意安全的？欢迎分享经验，谢谢！""",
    "zho-forum-2": """\
分享一个简单又好吃的家常菜：西红柿炒鸡蛋。先准备两个西红柿和三个鸡蛋，把西红柿切成小块，鸡蛋打散后加一点盐。锅里放油，油热后倒入蛋液，炒到刚刚凝固就盛出来。然后再放一点油，把西红柿下锅翻炒，炒出汤汁后加少许白糖和盐，最后把鸡蛋倒回锅里，翻炒均匀就可以出锅了。这道菜酸甜可口，特别下饭，做法也很简单，非常适合刚开始学做饭的朋友。你们家做这道菜的时候会放葱花吗？""",
}
FORUM_JUNK = {
    "junk-forum-1": ("keyword_spam", "eng", "make money online fast make money from home easy money online earn money fast work from home jobs online money online income fast cash easy cash make money now"),
    "junk-forum-2": ("short", "eng", "Thanks, same here!"),
}

# notes.txt: one record per paragraph, in this order.
NOTES = {
    "notes-swh-1": "Tamasha la utamaduni lililofanyika mwishoni mwa wiki katika uwanja wa mpira wa mji wetu lilivutia watu wengi kutoka vijiji vya jirani. Vikundi vya ngoma za asili vilicheza kwa ustadi, na wazee walisimulia hadithi za zamani kuhusu asili ya jamii yetu. Akina mama waliuza vyakula vya kienyeji kama mihogo ya kuchoma, maandazi na chai ya tangawizi. Watoto wa shule walishiriki katika mashindano ya kuimba na kuchora, na washindi walipewa zawadi za madaftari na kalamu. Kwa mujibu wa waandaaji, tamasha hili litafanyika kila mwaka kwa lengo la kuwasaidia vijana kujua na kuthamini mila na desturi za jamii yao. Mwaka huu tamasha hilo lilihudhuriwa pia na viongozi wa wilaya na wageni kutoka nje ya nchi.",
    "notes-yor-1": "Àwọn onímọ̀ nípa ojú ọjọ́ ti kìlọ̀ pé òjò ńlá yóò rọ̀ ní ìpínlẹ̀ Èkó àti Ògùn láti ọjọ́ Ẹtì títí di ọjọ́ Àìkú. Wọ́n sọ pé ìjì líle lè bá òjò náà rìn, ó sì lè wó igi àti òpó iná lulẹ̀. Wọ́n gba àwọn tí ń gbé ní ẹ̀bá odò àti ní ibi tí omi máa ń kún níyànjú láti ṣọ́ra, kí wọ́n sì kó lọ sí ibi gíga bí ó bá ṣe pàtàkì. Àwọn awakọ̀ náà gbọ́dọ̀ yẹra fún wíwakọ̀ gba inú omi tí ó ń ṣàn. Àjọ tí ń rí sí ojú ọjọ́ yóò máa gbé ìròyìn tuntun jáde lórí rédíò àti lórí ìkànnì ayélujára wọn.",
    "notes-swh-2": "Mto unaopita katikati ya kijiji chetu ni chanzo muhimu cha maisha kwa wakazi wote. Kila asubuhi wanawake wa kijiji huteka maji kwa ajili ya kupika na kufua nguo, na katika wakati wa kiangazi wakulima hutumia maji hayo kumwagilia bustani za mboga. Hata hivyo, katika miaka ya karibuni kiwango cha maji kimepungua kwa sababu watu wamekata miti mingi kando ya mto. Kikundi cha vijana kimeanza kupanda miche ya miti kwenye kingo za mto na kuwaelimisha wananchi kuhusu umuhimu wa kutunza mazingira. Wanatumaini kwamba baada ya miaka michache mto utarudi kuwa na maji mengi kama zamani.",
    "notes-yor-2": "Odò Ògùn ń ṣàn kọjá ọ̀pọ̀lọpọ̀ ìlú àti abúlé kí ó tó dé òkun. Fún ọ̀pọ̀lọpọ̀ ọdún, àwọn apẹja ti ń rí oúnjẹ àti owó láti inú odò yìí, àwọn obìnrin sì ń fọ aṣọ ní etí rẹ̀. Ṣùgbọ́n ní àwọn ọdún àìpẹ́ yìí, ẹ̀gbin láti ilé iṣẹ́ àti ọ̀rá ike ti ń ba omi odò náà jẹ́. Àwọn ọ̀dọ́ kan ní ìlú Abẹ́òkúta ti dá ẹgbẹ́ sílẹ̀ láti máa kó ìdọ̀tí kúrò ní etí odò ní ọjọ́ Sátidé àkọ́kọ́ nínú oṣù kọ̀ọ̀kan. Wọ́n ń rọ ìjọba láti fi òfin tí ó le mú àwọn ilé iṣẹ́ tí ń da ẹ̀gbin sínú odò.",
    "notes-swh-3": "Kituo kipya cha kompyuta kimefunguliwa katika maktaba ya wilaya, na sasa vijana wa eneo hilo wanaweza kujifunza kuhusu matumizi ya teknolojia bila malipo yoyote. Kituo hicho kina kompyuta ishirini zenye mtandao wa intaneti, pamoja na walimu wawili wanaofundisha kila siku ya wiki isipokuwa Jumapili. Wanafunzi hujifunza kuandika barua pepe, kutumia programu za kuandika na kutafuta taarifa kwa usalama mtandaoni. Baadhi ya wafanyabiashara wadogo pia huhudhuria mafunzo ili kujifunza jinsi ya kutangaza bidhaa zao kwenye mitandao ya kijamii. Kwa mujibu wa msimamizi wa kituo, idadi ya vijana wanaojiandikisha katika mafunzo hayo inaongezeka kila mwezi. Mafunzo hayo yanatolewa kwa lugha ya Kiswahili ili kila mtu aweze kuelewa kwa urahisi.",
    "notes-yor-3": "Ìdíje bọ́ọ̀lù àfẹsẹ̀gbá láàrin àwọn ilé ẹ̀kọ́ girama ní ìpínlẹ̀ Ọ̀yọ́ parí ní ọjọ́ Sátidé tó kọjá. Ẹgbẹ́ agbábọ́ọ̀lù láti ìlú Ògbómọ̀ṣọ́ ló gba ife ẹ̀yẹ lẹ́yìn tí wọ́n fi ayò méjì sí ọ̀kan borí ẹgbẹ́ láti Ìbàdàn. Ẹgbẹẹgbẹ̀rún èrò ló wá wo ìdíje náà, wọ́n sì ń kọrin, wọ́n ń lu ìlù láti fún àwọn ọmọ wọn ní ìwúrí. Akọ́nimọ̀ọ́gbá ẹgbẹ́ tí ó borí sọ pé àwọn ọmọ náà ti ń gbaradì fún oṣù mẹ́ta gbáko. Ó dúpẹ́ lọ́wọ́ àwọn òbí àti àwọn olùkọ́ tí wọ́n ràn wọ́n lọ́wọ́.",
}

# ---------------------------------------------------------------------------------------
# Planted duplicates (all go to web_sample.jsonl).
# ---------------------------------------------------------------------------------------

# copy id -> (original id, how the copy differs)
EXACT = {
    "zho-exact-1a": ("zho-clean-1", "identical"),
    "zho-exact-1b": ("zho-clean-1", "whitespace"),
    "eng-exact-3a": ("eng-clean-3", "case"),
    "swh-exact-5a": ("swh-clean-5", "identical"),
    "hin-exact-2a": ("hin-clean-2", "punctuation_spacing"),
    "ell-exact-3a": ("ell-clean-3", "identical"),
    "ell-exact-3b": ("ell-clean-3", "whitespace"),
}

# copy id -> (original id, [(old, new), ...]); each `old` occurs exactly once in the original.
NEAR = {
    "rus-near-1a": ("rus-clean-1", [
        ("Воронежской области", "Липецкой области"),
        ("около двухсот гектаров", "почти триста гектаров"),
    ]),
    "yor-near-2a": ("yor-clean-2", [
        ("Dókítà Fọláṣadé sọ pé", "Dókítà Adéọlá ṣàlàyé pé"),
        ("Àwọn olùkọ́ náà ti gbà láti sọ̀rọ̀ nípa ibà fún àwọn akẹ́kọ̀ọ́ ní ilé ẹ̀kọ́.",
         "Àwọn olùkọ́ náà yóò máa sọ̀rọ̀ nípa ibà fún àwọn ọmọ ilé ẹ̀kọ́ ní gbogbo ọ̀sẹ̀."),
    ]),
    "npi-near-2a": ("npi-clean-2", [
        ("डा. सीता श्रेष्ठका", "डा. गीता श्रेष्ठका"),
        ("तीन सयभन्दा बढी", "चार सयभन्दा बढी"),
    ]),
    "amh-near-5a": ("amh-clean-5", [
        ("በሚቀጥሉት አሥር ቀናት", "በሚቀጥሉት ሁለት ሳምንታት"),
        ("በሬዲዮ፣ በቴሌቪዥንና በድረ ገጹ", "በሬዲዮና በማኅበራዊ ሚዲያ"),
    ]),
    "arb-near-4a": ("arb-clean-4", [
        ("أكثر من ثلاثة آلاف كتاب", "نحو ألفي كتاب"),
        ("الأستاذ محمود عبد الله", "الأستاذ أحمد عبد الله"),
    ]),
    "tha-near-3a": ("tha-clean-3", [
        ("ทุกวันเสาร์และวันอาทิตย์", "ทุกวันอาทิตย์"),
        ("มานานกว่ายี่สิบปี", "มานานกว่าสามสิบปี"),
        ("ท่าเรือและทางเดินริมคลอง", "ทางเดินริมคลอง"),
    ]),
}

# passage id -> (source id, first words, last words, [(old, new), ...] edits to the passage)
PARTIAL = {
    "eng-part-1a": ("eng-clean-1", "Grace Mwale, who grows", "larger and healthier.",
                    [("Grace Mwale, who grows", "Grace Mwale, a farmer who grows")]),
    "swh-part-2a": ("swh-clean-2", "Daktari mkuu wa hospitali", "jambo ambalo ni hatari.", []),
    "hin-part-1a": ("hin-clean-1", "सीतापुर ज़िले के किसान", "लगभग दोगुनी है।", []),
    "rus-part-4a": ("rus-clean-4", "Городская администрация поддержала", "щуку и голавля.", []),
}

# ---------------------------------------------------------------------------------------
# Junk: id -> (kind, language of the text or "zxx"/"mixed", text). Kinds are the keys the
# tests use: short, boilerplate, lorem, symbols, repeated_lines, short_lines,
# keyword_spam, code, mixed_language.
# ---------------------------------------------------------------------------------------

JUNK = {
    "junk-short-1": ("short", "eng", "Click here to read more."),
    "junk-short-2": ("short", "swh", "Asante sana kwa kusoma."),
    "junk-short-3": ("short", "rus", "Подробнее читайте на нашем сайте."),
    "junk-nav-1": ("boilerplate", "eng", """\
Home | About Us | Services | Blog | Contact | Login | Register
Search
Follow us: Facebook | Twitter | Instagram | YouTube
© 2024 Example Media Ltd. All rights reserved. Privacy Policy | Terms of Use | Sitemap"""),
    "junk-nav-2": ("boilerplate", "swh", """\
Nyumbani | Habari | Michezo | Biashara | Burudani | Wasiliana Nasi | Ingia | Jisajili
Tafuta
© 2024 Habari Leo. Haki zote zimehifadhiwa. | Sera ya Faragha | Masharti ya Matumizi"""),
    "junk-nav-3": ("boilerplate", "arb", """\
الرئيسية | من نحن | الأخبار | الرياضة | اتصل بنا | تسجيل الدخول
بحث
© 2024 جميع الحقوق محفوظة. | سياسة الخصوصية | شروط الاستخدام"""),
    "junk-cookie-1": ("boilerplate", "eng", """\
We use cookies to improve your experience on our website. By continuing to browse, you agree to our use of cookies.
Accept all cookies | Reject | Manage preferences | Read our Cookie Policy"""),
    "junk-footer-1": ("boilerplate", "rus", """\
Главная | О компании | Новости | Контакты | Войти
© 2010–2024 ООО «Пример». Все права защищены.
Политика конфиденциальности | Пользовательское соглашение | Карта сайта
Мы используем файлы cookie. Продолжая пользоваться сайтом, вы соглашаетесь с их использованием."""),
    "junk-lorem-1": ("lorem", "lat", """\
Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum."""),
    "junk-lorem-2": ("lorem", "lat", """\
Page title goes here

Lorem ipsum dolor sit amet, consectetur adipiscing elit. Integer nec odio praesent libero, sed cursus ante dapibus diam. Sed nisi nulla quis sem at nibh elementum imperdiet. Duis sagittis ipsum, praesent mauris fusce nec tellus sed augue semper porta. Mauris massa vestibulum lacinia arcu eget nulla.

Read more | Share | Tags: lorem, ipsum, placeholder"""),
    "junk-symbols-1": ("symbols", "zxx", """\
SKU      | Qty | Unit $ | Total $
A-1001   |  12 |   4.50 |   54.00
A-1002   |   3 |  19.99 |   59.97
B-2040   |  40 |   0.35 |   14.00
B-2041   |   7 |  12.00 |   84.00
C-3300   |   1 | 249.00 |  249.00
C-3301   |  25 |   2.10 |   52.50
D-4410   |   9 |   7.75 |   69.75
-------- | --- | ------ | -------
Subtotal |  97 |        |  583.22
VAT 18%  |     |        |  104.98
TOTAL    |     |        |  688.20"""),
    "junk-symbols-2": ("symbols", "zxx", """\
+255 754 123 456
+255 713 987 654
+254 722 000 111
+254 733 456 789
+234 803 555 0101
+234 805 555 0199
+251 911 22 33 44
+977 98 4123 4567
+91 98765 43210
+7 495 123-45-67
+30 210 123 4567
+66 2 123 4567"""),
    "junk-symbols-3": ("symbols", "zxx", """\
USD/KES 129.45 ▲0.32% | EUR/KES 140.10 ▼0.11% | GBP/KES 163.72 ▲0.05% | USD/NGN 1,482.30 ▲1.20% | USD/ETB 57.61 ▲0.02% | USD/INR 83.12 ▼0.08% | USD/RUB 91.40 ▲0.44% | USD/CNY 7.24 = 0.00% | USD/THB 36.05 ▼0.27% | EUR/USD 1.0823 ▼0.03% | 09:41 GMT+3 | #FX #rates #24h"""),
    "junk-repeat-1": ("repeated_lines", "eng", "\n".join(["Buy now and get free shipping on all orders!"] * 15)),
    "junk-repeat-2": ("repeated_lines", "hin", "\n".join(["अभी सदस्यता लें और पाएँ विशेष छूट!"] * 15)),
    "junk-repeat-3": ("repeated_lines", "zho", "\n".join(["点击这里下载最新版本的应用程序"] * 15)),
    "junk-lines-1": ("short_lines", "eng", "\n".join([
        "Menu", "Top stories", "World", "Business", "Sport", "Share this", "Print",
        "Next page", "Previous", "Comments (0)", "Most read", "Weather", "Video",
        "Newsletter", "Sign up", "Log in", "Back to top", "Follow us", "Advertise", "Careers",
    ])),
    "junk-lines-2": ("short_lines", "swh", "\n".join([
        "Habari", "Michezo", "Biashara", "Soma zaidi", "Shiriki", "Chapisha", "Ukurasa unaofuata",
        "Iliyotangulia", "Maoni (0)", "Zilizosomwa zaidi", "Hali ya hewa", "Video", "Jarida",
        "Jisajili", "Ingia", "Rudi juu", "Tufuate", "Tangaza nasi", "Ajira", "Mawasiliano",
    ])),
    "junk-spam-1": ("keyword_spam", "eng", "cheap flights cheap hotels cheap flights online best price flights cheap tickets discount flights cheap hotel deals last minute flights cheap flights today cheap flights to london cheap flights to dubai cheap flights cheap flights booking best cheap hotels"),
    "junk-spam-2": ("keyword_spam", "rus", "купить телефон дешево купить телефон недорого телефон купить цена купить смартфон дешево смартфон недорого купить телефон москва дешевые телефоны купить телефон в кредит телефон купить дешево"),
    "junk-spam-3": ("keyword_spam", "hin", "सस्ता मोबाइल सस्ता मोबाइल ऑनलाइन मोबाइल ऑफर सबसे सस्ता मोबाइल मोबाइल डील सस्ता फोन सस्ता मोबाइल खरीदें मोबाइल ऑफर आज सस्ता मोबाइल दिल्ली सस्ता मोबाइल"),
    "junk-code-1": ("code", "zxx", """\
Features:
• Fast setup
• Free updates
• 24/7 support
<script type="text/javascript">
function initMenu() {
  var items = document.querySelectorAll('.menu li');
  for (var i = 0; i < items.length; i++) {
    items[i].addEventListener('click', function () { this.classList.toggle('open'); });
  }
}
window.onload = initMenu;
</script>
- Please enable JavaScript to view this page.
- {{ page.title }} | {{ site.name }}"""),
    "junk-code-2": ("code", "zxx", """\
* Download
* Docs
* API reference
* javascript:void(0)
{"status": "ok", "items": [{"id": 1, "price": 9.99}, {"id": 2, "price": 19.99}]}
.header { color: #333; margin: 0 auto; }
.footer { display: none; }
var cfg = { lang: "en", theme: "dark" };
- Loading...
- Error: JavaScript is disabled in your browser."""),
    "junk-mixed-1": ("mixed_language", "mixed", """\
Welcome to our community meeting this Saturday at the primary school hall. Karibuni kwenye mkutano wa jamii Jumamosi hii katika ukumbi wa shule ya msingi. We will discuss the new water project and the plan for school fees next year. Tutajadili mradi mpya wa maji na mpango wa ada za shule mwaka ujao. Please come early, because the number of seats is limited. Tafadhali fikeni mapema, kwa sababu viti ni vichache. Bring your neighbours and your questions. Waleteni majirani zenu pamoja na maswali yenu."""),
    "junk-mixed-2": ("mixed_language", "mixed", """\
The library will be closed on Monday for cleaning and repairs. Библиотека будет закрыта в понедельник на уборку и ремонт. Books can be returned at the box next to the main door. Книги можно вернуть в ящик у главного входа. We apologise for any inconvenience and thank you for your patience. Приносим извинения за неудобства и благодарим вас за терпение. The reading room opens again on Tuesday at nine. Читальный зал снова откроется во вторник в девять утра."""),
}

# ---------------------------------------------------------------------------------------
# Decontamination (the recipe's `decontaminate` step). benchmark.jsonl is a small test set written
# for this sample (no real benchmark ships: their licences vary); web_sample_leaks.jsonl plants some
# of its items into the input, each inside text of its own language:
#
#     leak-<lang>-verbatim    an item's question copied as is                      -> contaminated
#     leak-<lang>-edited      copied with case and punctuation changed             -> contaminated
#     leak-<lang>-translated  an item translated into another language             -> NOT caught
#
# Kept in its own block and files so it merges easily with other changes to the sample.
# ---------------------------------------------------------------------------------------

BENCHMARK = [
    {"id": "qs-bench-1", "lang": "swh", "answer": "18",
     "question": "Mama Amina anauza mayai sokoni kila siku; kuku wake hutaga mayai kumi na sita kwa siku naye hula "
                 "matatu asubuhi na kuoka mikate kwa manne. Anapata shilingi ngapi kwa siku?"},
    {"id": "qs-bench-2", "lang": "zho", "answer": "125",
     "question": "一家书店上午卖出了三十五本书，下午卖出的书是上午的两倍，晚上又卖出了二十本，这家书店今天一共卖出了多少本书？"},
    {"id": "qs-bench-3", "lang": "tha", "answer": "120",
     "question": "ร้านผลไม้แห่งหนึ่งขายมะม่วงวันละสี่สิบผลและขายกล้วยมากกว่ามะม่วงสองเท่าในแต่ละวันร้านนี้ขายผลไม้ทั้งหมดวันละกี่ผล"},
    {"id": "qs-bench-4", "lang": "rus", "answer": "45",
     "question": "Поезд выехал из города в девять часов утра и ехал со скоростью шестьдесят километров в час. "
                 "Сколько километров он проехал к половине одиннадцатого, если не делал остановок?"},
    {"id": "qs-bench-5", "lang": "eng", "answer": "90",
     "question": "Amina walks to the market at four kilometres an hour and the market is six kilometres from her "
                 "house. How long does the walk take her in minutes?"},
    {"id": "qs-bench-6", "lang": "hin", "answer": "36",
     "question": "एक कक्षा में चालीस विद्यार्थी हैं और उनमें से दस प्रतिशत विद्यार्थी आज बीमार होने के कारण स्कूल नहीं आए। आज "
                 "कक्षा में कितने विद्यार्थी उपस्थित हैं?"},
]

LEAKS = {
    "leak-swh-verbatim": (
        "qs-bench-1", "swh",
        "Wanafunzi wa darasa la sita walipewa zoezi hili la hesabu na mwalimu wao jana jioni. {q} Mwalimu "
        "aliwaambia waonyeshe hatua zote za kukokotoa jibu kwenye madaftari yao na kuleta kazi hiyo kesho asubuhi "
        "kabla ya kengele ya kwanza kulia."),
    "leak-zho-verbatim": (
        "qs-bench-2", "zho",
        "今天数学课上，老师在黑板上写了一道应用题，让同学们先独立思考再小组讨论。题目是这样的：{q}"
        "大家认真计算以后，把答案和解题过程写在练习本上交给了老师。"),
    "leak-tha-verbatim": (
        "qs-bench-3", "tha",
        "คุณครูให้นักเรียนชั้นประถมปีที่สามทำโจทย์คณิตศาสตร์ข้อนี้เป็นการบ้านในวันหยุดสุดสัปดาห์ {q} "
        "นักเรียนต้องเขียนวิธีคิดอย่างละเอียดและส่งสมุดการบ้านให้คุณครูในวันจันทร์"),
    "leak-rus-edited": (
        "qs-bench-4", "rus",
        "На олимпиаде по математике для пятых классов в этом году была такая задача. {q} Многие участники "
        "ответили неправильно, потому что забыли перевести минуты в часы, а жюри потом подробно разобрало решение."),
    "leak-swh-translated": (
        "qs-bench-5", "swh",
        "Katika kitabu cha hesabu cha darasa la tano kuna swali hili ambalo wanafunzi wengi hulipenda sana. "
        "Amina anatembea kwenda sokoni kwa kasi ya kilomita nne kwa saa na soko liko umbali wa kilomita sita "
        "kutoka nyumbani kwake. Safari hiyo inamchukua dakika ngapi? Wanafunzi wanapaswa kueleza jinsi walivyopata "
        "jibu lao, hatua kwa hatua, na kuonyesha kwamba wanaelewa uhusiano kati ya kasi, umbali na muda. Walimu "
        "wanasema swali kama hili huwasaidia watoto kutumia hesabu katika maisha yao ya kila siku."),
}


def leak_text(leak_id: str) -> str:
    """A planted record's text: its benchmark question inside text of its own; `-edited` leaks change case and
    punctuation, which exact-dedup normalization removes."""
    item_id, _, template = LEAKS[leak_id]
    question = next(item["question"] for item in BENCHMARK if item["id"] == item_id)
    if leak_id.endswith("-edited"):
        question = question.upper().replace(",", "").replace("?", "?!")
    return template.replace("{q}", question) if "{q}" in template else template


def write_decontamination_files() -> dict:
    """benchmark.jsonl, web_sample_leaks.jsonl, and the manifest's `decontamination` entry."""
    (HERE / "benchmark.jsonl").write_text(
        "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in BENCHMARK), encoding="utf-8")
    leaks = [{"id": leak_id, "text": leak_text(leak_id), "url": url_for(leak_id)} for leak_id in LEAKS]
    (HERE / "web_sample_leaks.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in leaks), encoding="utf-8")
    return {
        "benchmark_items": len(BENCHMARK),
        "leaks": {leak_id: {"item": item_id, "lang": lang} for leak_id, (item_id, lang, _) in LEAKS.items()},
        "caught": sorted(leak_id for leak_id in LEAKS if not leak_id.endswith("-translated")),
        "not_caught": sorted(leak_id for leak_id in LEAKS if leak_id.endswith("-translated")),
    }


# Raw lines planted in web_sample.jsonl at these 1-based line numbers.
BAD_LINES = {
    12: ("truncated_json", '{"id": "bad-truncated-1", "text": "Habari za asubuhi, leo tunazungumzia kilimo cha'),
    41: ("json_array", '["bad-array-1", "This line is a JSON array, not an object."]'),
    77: ("missing_text", '{"id": "bad-notext-1", "body": "The text sits under the wrong key.", "url": "https://example.org/eng/bad-notext-1"}'),
    103: ("empty_text", '{"id": "bad-empty-1", "text": "", "url": "https://example.org/eng/bad-empty-1"}'),
}
BAD_UTF8_LINE = (
    b'{"id": "bad-utf8-1", "text": "Habari za leo \xff\xfe\xc3\x28 mvua imenyesha sana usiku wa jana.", '
    b'"url": "https://example.org/swh/bad-utf8-1"}'
)

SHUFFLE_SEED = 20240611

# ---------------------------------------------------------------------------------------
# Planted personal data (the `pii` step): web_sample_pii.jsonl. Kept apart from the rest of
# the sample so the other blocks do not change. Every value below is made up but valid
# (numbers valid for their region per phonenumbers, a Luhn-valid test card, IBANs with a
# correct mod-97 checksum); the run must leave none of them in any file it writes.
# ---------------------------------------------------------------------------------------

PII_VALUES = {
    "email_sw": "amina.juma@shule-mlimani.ac.tz",
    "phone_tz": "0754 123 456",                 # Tanzania, national format
    "phone_ke": "+254 712 345 678",             # Kenya, international
    "phone_eg_arabic_digits": "٠١٠ ١٢٣٤ ٥٦٧٨",   # Egypt, Arabic-Indic digits
    "email_ar": "info@madrasa-example.eg",
    "phone_in_devanagari": "९८७६५ ४३२१०",         # India, Devanagari digits
    "phone_ru": "8 (495) 123-45-67",            # Russia, national
    "iban_ru_text": "DE89 3704 0044 0532 0130 00",
    "card_en": "4111 1111 1111 1111",
    "iban_en": "GB82 WEST 1234 5698 7654 32",
    "phone_us": "(212) 555-0123",
    "phone_bad_line": "+255 22 211 4567",
    "email_bad_line": "mwalimu@example.org",
}
PII_RECORDS = {
    "swh-pii-1": f"""\
Kikundi cha vijana wa kijiji cha Mlimani kimeanzisha mradi wa kupanda miti katika shule zote za kata. \
Kila mwanafunzi atapanda mti mmoja na kuutunza mpaka amalize masomo yake ya shule ya msingi. \
Walimu wanasema mradi huu utasaidia kuhifadhi mazingira na kuleta kivuli kwenye viwanja vya michezo. \
Wazazi wameombwa kuchangia miche na mbolea, na viongozi wa kata wameahidi kuleta maji wakati wa kiangazi. \
Kwa maelezo zaidi, andika barua pepe kwa {PII_VALUES["email_sw"]} au piga simu {PII_VALUES["phone_tz"]}. \
Wale walioko Kenya wanaweza kupiga {PII_VALUES["phone_ke"]} siku za Jumamosi.""",
    "arb-pii-1": f"""\
أعلنت المدرسة الثانوية في حي النور عن فتح باب التسجيل في دورات مجانية لتعليم الحاسوب للكبار. \
وتستمر الدورة ثلاثة أشهر، ويتعلم فيها المشاركون كتابة الرسائل واستخدام الجداول والبحث عن المعلومات. \
وقال مدير المدرسة إن الإقبال كان كبيرا في العام الماضي، وإن كثيرا من الخريجين وجدوا عملا أفضل بعد الدورة. \
وتبدأ الدروس بعد صلاة العصر حتى لا تتعارض مع أوقات العمل، وتقدم المدرسة الكتب مجانا لكل المشاركين. \
للاستفسار يمكن الاتصال على الرقم {PII_VALUES["phone_eg_arabic_digits"]} أو الكتابة إلى {PII_VALUES["email_ar"]} في أي وقت.""",
    "hin-pii-1": f"""\
शहर के पुस्तकालय ने बच्चों के लिए गर्मियों की छुट्टियों में पढ़ने का एक नया कार्यक्रम शुरू किया है। \
हर शनिवार को कहानी सुनाने का सत्र होगा और बच्चे अपनी पसंद की किताबें घर ले जा सकेंगे। \
पुस्तकालय की प्रमुख ने बताया कि पिछले साल सौ से अधिक बच्चों ने इस कार्यक्रम में भाग लिया था। \
माता पिता से अनुरोध है कि वे बच्चों का नाम जल्दी लिखवाएँ, क्योंकि जगह सीमित है और किताबें भी कम हैं। \
अधिक जानकारी के लिए {PII_VALUES["phone_in_devanagari"]} पर फ़ोन करें या सुबह दस बजे के बाद पुस्तकालय आएँ।""",
    "rus-pii-1": f"""\
В нашем районе открылась новая библиотека для детей и взрослых, где можно бесплатно брать книги домой. \
По субботам там проходят занятия для школьников, а по вечерам работает клуб любителей истории. \
Директор библиотеки рассказала, что за первый месяц читателями стали больше трёхсот жителей района. \
Библиотека принимает в дар книги в хорошем состоянии и ищет волонтёров для работы с детьми. \
Записаться можно по телефону {PII_VALUES["phone_ru"]}, а пожертвования принимаются на счёт {PII_VALUES["iban_ru_text"]}.""",
    # English: the quickstart does not keep English, so LID drops it before `pii`; its reject is redacted anyway
    "eng-pii-1": f"""\
The school committee thanks every family who supported the new library this year. \
Donations can be made by card ({PII_VALUES["card_en"]} was used in the example form by mistake and has been \
cancelled) or by transfer to {PII_VALUES["iban_en"]}. Questions go to the office at {PII_VALUES["phone_us"]}.""",
}
# A broken line (truncated JSON) holding personal data: its quarantine excerpt is redacted too.
PII_BAD_LINE = (3, '{"id": "bad-pii-1", "text": "Piga simu ' + PII_VALUES["phone_bad_line"] + " au andika "
                + PII_VALUES["email_bad_line"] + ' kwa maelezo')
PII_LANGUAGES = {"swh-pii-1": "swh", "arb-pii-1": "arb", "hin-pii-1": "hin", "rus-pii-1": "rus", "eng-pii-1": "eng"}


def write_pii_sample() -> dict:
    """web_sample_pii.jsonl, and the manifest entries the tests check it against."""
    lines = [json.dumps({"id": rid, "text": text, "url": url_for(rid)}, ensure_ascii=False)
             for rid, text in PII_RECORDS.items()]
    lines.insert(PII_BAD_LINE[0] - 1, PII_BAD_LINE[1])
    (HERE / "web_sample_pii.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"values": PII_VALUES, "languages": PII_LANGUAGES, "bad_line": PII_BAD_LINE[0], "lines": len(lines),
            "records": list(PII_RECORDS)}


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------


def lang_of(record_id: str) -> str:
    return record_id.split("-", 1)[0]


def clean_text(record_id: str) -> str:
    lang, _, n = record_id.split("-")
    return CLEAN[lang][int(n) - 1]


def tokens(text: str) -> list[str]:
    """Lower-cased whitespace tokens with punctuation removed (keeps Devanagari/Thai marks)."""
    out = []
    for raw in text.lower().split():
        word = "".join(ch for ch in raw if not unicodedata.category(ch).startswith("P"))
        if word:
            out.append(word)
    return out


def shingles(text: str, lang: str, n: int = 5) -> set:
    """5-word shingles; character 5-grams (whitespace removed) for unspaced scripts."""
    if lang in UNSPACED:
        chars = "".join(ch for ch in text if not ch.isspace())
        return {chars[i : i + n] for i in range(len(chars) - n + 1)}
    words = tokens(text)
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b)


def containment(small: set, big: set) -> float:
    return len(small & big) / len(small)


def size(text: str, lang: str) -> int:
    """Words for spaced scripts, non-space characters for Chinese and Thai."""
    if lang in UNSPACED:
        return sum(not ch.isspace() for ch in text)
    return len(text.split())


def replace_once(text: str, edits: list[tuple[str, str]], what: str) -> str:
    for old, new in edits:
        assert text.count(old) == 1, f"{what}: {old!r} must occur exactly once"
        text = text.replace(old, new)
    return text


def exact_variant(text: str, variant: str) -> str:
    if variant == "identical":
        return text
    if variant == "whitespace":  # extra spaces and blank lines; same words in the same order
        return "  " + text.replace(". ", ".  ").replace("\n\n", "\n\n\n") + " \n"
    if variant == "case":
        return text.lower()
    if variant == "punctuation_spacing":  # "word," -> "word ,", as often seen in scraped Hindi
        return re.sub(r"\s*([,.;:!?।])", r" \1", text)
    raise ValueError(variant)


def passage(source: str, first: str, last: str) -> str:
    start = source.index(first)
    end = source.index(last, start) + len(last)
    return source[start:end]


def url_for(record_id: str) -> str:
    lang = lang_of(record_id)
    return f"https://example.org/{lang if lang in LANGUAGES else 'misc'}/{record_id}"


# ---------------------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------------------


def build_web_records() -> tuple[list[dict], dict[str, str]]:
    """All valid web_sample records (unshuffled) and, per record, the group it dedups into."""
    records, group = [], {}

    def add(record_id: str, text: str, group_id: str) -> None:
        records.append({"id": record_id, "text": text, "url": url_for(record_id)})
        group[record_id] = group_id

    for lang, docs in CLEAN.items():
        for n, text in enumerate(docs, start=1):
            add(f"{lang}-clean-{n}", text, f"{lang}-clean-{n}")
    for copy_id, (orig, variant) in EXACT.items():
        add(copy_id, exact_variant(clean_text(orig), variant), orig)
    for copy_id, (orig, edits) in NEAR.items():
        add(copy_id, replace_once(clean_text(orig), edits, copy_id), orig)
    for short_id, (orig, first, last, edits) in PARTIAL.items():
        add(short_id, replace_once(passage(clean_text(orig), first, last), edits, short_id), orig)
    for junk_id, (_, _, text) in JUNK.items():
        add(junk_id, text, junk_id)
    return records, group


def shuffled(records: list[dict], group: dict[str, str]) -> list[dict]:
    """Deterministic shuffle in which no two records of one duplicate group are adjacent."""
    rng = random.Random(SHUFFLE_SEED)
    records = list(records)
    while True:
        rng.shuffle(records)
        if all(group[a["id"]] != group[b["id"]] for a, b in zip(records, records[1:], strict=False)):
            return records


def check(web_records: list[dict]) -> dict:
    """Assert the sample's invariants and return the measured numbers."""
    by_id = {r["id"]: r["text"] for r in web_records}
    all_clean = {f"{lang}-clean-{n}": t for lang, docs in CLEAN.items() for n, t in enumerate(docs, 1)}
    all_clean |= BAD_UTF8_NEIGHBOURS | FORUM_POSTS | NOTES
    for record_id, text in all_clean.items():
        lang = lang_of(record_id)
        low, high = (150, 400) if lang in UNSPACED else (80, 220)
        assert low <= size(text, lang) <= high, f"{record_id}: size {size(text, lang)} not in [{low}, {high}]"
        lines = [ln for ln in text.splitlines() if ln.strip()]
        assert len(lines) == len(set(lines)), f"{record_id}: repeated line"
    numbers = {"near_jaccard": {}, "partial": {}}
    for copy_id, (orig, _) in NEAR.items():
        lang = lang_of(orig)
        j = jaccard(shingles(by_id[orig], lang), shingles(by_id[copy_id], lang))
        assert 0.7 <= j <= 0.92, f"{copy_id}: jaccard {j:.3f} with {orig}"
        numbers["near_jaccard"][copy_id] = round(j, 3)
    for short_id, (orig, *_rest) in PARTIAL.items():
        lang = lang_of(orig)
        small, big = shingles(by_id[short_id], lang), shingles(by_id[orig], lang)
        words = size(by_id[short_id], lang)
        assert 40 <= words <= 70, f"{short_id}: {words} words"
        assert containment(small, big) >= 0.8, f"{short_id}: containment {containment(small, big):.3f}"
        assert size(by_id[orig], lang) >= 180, f"{orig}: a partial-copy source should be long"
        numbers["partial"][short_id] = {
            "words": words,
            "containment": round(containment(small, big), 3),
            "jaccard": round(jaccard(small, big), 3),
        }
    return numbers


def main() -> None:
    records, group = build_web_records()
    numbers = check(records)
    out = shuffled(records, group)

    # web_sample.jsonl: the shuffled records with the bad lines planted at fixed line numbers.
    lines = [json.dumps(r, ensure_ascii=False) for r in out]
    for line_no in sorted(BAD_LINES):
        lines.insert(line_no - 1, BAD_LINES[line_no][1])
    (HERE / "web_sample.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")

    # web_sample_bad_utf8.jsonl: clean, invalid UTF-8, clean.
    first, last = BAD_UTF8_NEIGHBOURS.items()
    with open(HERE / "web_sample_bad_utf8.jsonl", "wb") as fh:
        for rid, text in (first,):
            fh.write(json.dumps({"id": rid, "text": text, "url": url_for(rid)}, ensure_ascii=False).encode() + b"\n")
        fh.write(BAD_UTF8_LINE + b"\n")
        for rid, text in (last,):
            fh.write(json.dumps({"id": rid, "text": text, "url": url_for(rid)}, ensure_ascii=False).encode() + b"\n")

    # forum_posts.csv: clean posts and two junk rows, in a fixed shuffled order.
    rows = [(pid, body, lang_of(pid)) for pid, body in FORUM_POSTS.items()]
    rows += [(pid, text, lang) for pid, (_, lang, text) in FORUM_JUNK.items()]
    random.Random(SHUFFLE_SEED).shuffle(rows)
    with open(HERE / "forum_posts.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["post_id", "body", "lang_hint"])
        writer.writerows(rows)

    # notes.txt: one paragraph per record, separated by a blank line.
    (HERE / "notes.txt").write_text("\n\n".join(NOTES.values()) + "\n", encoding="utf-8")

    # expected.json: what the tests assert against.
    languages = {r["id"]: lang_of(r["id"]) for r in records if r["id"] not in JUNK}
    languages |= {rid: lang_of(rid) for rid in [*BAD_UTF8_NEIGHBOURS, *FORUM_POSTS, *NOTES]}
    languages = {rid: ("swh" if rid.startswith("notes-swh") else "yor" if rid.startswith("notes-yor") else lang)
                 for rid, lang in languages.items()}
    languages |= {leak_id: lang for leak_id, (_, lang, _) in LEAKS.items()}  # decontamination's planted records
    exact_groups: dict[str, list[str]] = {}
    for copy_id, (orig, _) in EXACT.items():
        exact_groups.setdefault(orig, [orig]).append(copy_id)
    manifest = {
        "description": "Planted structure of the quickstart sample; generated by build_sample.py.",
        "scripts": {lang: script for lang, (script, _) in LANGUAGES.items()},
        "lid176_labels": {lang: label for lang, (_, label) in LANGUAGES.items()},
        "languages": languages,
        "exact_duplicates": list(exact_groups.values()),
        "exact_duplicate_variants": {copy_id: variant for copy_id, (_, variant) in EXACT.items()},
        "near_duplicates": [[orig, copy_id] for copy_id, (orig, _) in NEAR.items()],
        "partial_copies": [[orig, short_id] for short_id, (orig, *_rest) in PARTIAL.items()],
        "junk": {rid: kind for rid, (kind, _, _) in (JUNK | FORUM_JUNK).items()},
        "bad_lines": {
            "web_sample.jsonl": sorted(BAD_LINES),
            "web_sample_bad_utf8.jsonl": [2],
        },
        "bad_line_reasons": {
            "web_sample.jsonl": {str(n): reason for n, (reason, _) in sorted(BAD_LINES.items())},
            "web_sample_bad_utf8.jsonl": {"2": "bad_utf8"},
        },
        "counts": {
            "web_sample.jsonl": len(lines),
            "web_sample_bad_utf8.jsonl": 3,
            "forum_posts.csv": len(rows),
            "notes.txt": len(NOTES),
        },
        "records": {
            "web_sample.jsonl": [r["id"] for r in out],
            "web_sample_bad_utf8.jsonl": list(BAD_UTF8_NEIGHBOURS),
            "forum_posts.csv": [row[0] for row in rows],
            "notes.txt": list(NOTES),
        },
        "measured": numbers,
        "decontamination": write_decontamination_files(),
    }
    pii = write_pii_sample()
    manifest["languages"] |= pii["languages"]
    manifest["bad_lines"]["web_sample_pii.jsonl"] = [pii["bad_line"]]
    manifest["bad_line_reasons"]["web_sample_pii.jsonl"] = {str(pii["bad_line"]): "truncated_json"}
    manifest["counts"]["web_sample_pii.jsonl"] = pii["lines"]
    manifest["records"]["web_sample_pii.jsonl"] = pii["records"]
    manifest["pii"] = {"values": pii["values"]}
    (HERE / "expected.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(numbers, indent=1))


if __name__ == "__main__":
    main()
