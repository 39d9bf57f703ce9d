site-name = BAQ.KZ
home = Басты бет
latest-news = Соңғы жаңалықтар
sections = Айдарлар
read-more = Толығырақ
author = Авторы
published = Жарияланды
tags = Тегтер
comments = { $count ->
    [one] { $count } пікір
   *[other] { $count } пікір
}
no-comments = Әзірге пікір жоқ.
no-entries = Бұл айдарда әзірге материал жоқ.
subsections = Ішкі айдарлар
language = Тіл
not-found-title = Бет табылмады
not-found-text = Сұралған бет жоқ немесе жойылған. Басты бетке оралыңыз.
error-title = Қате орын алды
error-text = Сұрауды орындау мүмкін болмады. Кейінірек қайталап көріңіз.
request-id = Сұрау нөмірі
skip-to-content = Негізгі мазмұнға өту
tag = Тег
not-translated = Бұл материал таңдалған тілде жоқ, сондықтан ең жақын бет ашылды.
gone-title = Материал жойылды
gone-text = Бұл материал сайттан алынып тасталды.
pages = Беттер
newer = Жаңарақ
older = Ескірек
archive = Мұрағат
