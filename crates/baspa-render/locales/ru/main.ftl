site-name = BAQ.KZ
home = Главная
latest-news = Последние новости
sections = Рубрики
read-more = Подробнее
author = Автор
published = Опубликовано
tags = Теги
comments = { $count ->
    [one] { $count } комментарий
    [few] { $count } комментария
    [many] { $count } комментариев
   *[other] { $count } комментария
}
no-comments = Комментариев пока нет.
no-entries = В этой рубрике пока нет материалов.
subsections = Подрубрики
language = Язык
not-found-title = Страница не найдена
not-found-text = Запрошенной страницы нет или она удалена. Вернитесь на главную.
error-title = Произошла ошибка
error-text = Не удалось выполнить запрос. Попробуйте позже.
request-id = Номер запроса
skip-to-content = Перейти к содержанию
tag = Тег
not-translated = Этого материала нет на выбранном языке, поэтому открыта ближайшая страница.
gone-title = Материал удалён
gone-text = Этот материал снят с сайта.
pages = Страницы
newer = Новее
older = Старее
archive = Архив
search-label = Поиск по сайту
search-button = Найти
search-title = Поиск
search-filters = Фильтры
search-section = Рубрика
search-any-section = Все рубрики
search-type = Тип
search-any-type = Все типы
search-type-article = Статья
search-type-document = Документ
search-type-page = Страница
search-from = Дата с
search-to = Дата по
search-sort = Сортировка
search-sort-relevance = По релевантности
search-sort-date = По дате, сначала новые
search-results = { $count ->
    [one] Найден { $count } результат
    [few] Найдено { $count } результата
    [many] Найдено { $count } результатов
   *[other] Найдено { $count } результата
}
search-did-you-mean = Возможно, вы искали:
search-nothing = Ничего не найдено
search-nothing-tips = Проверьте написание, попробуйте другое слово или уберите фильтры. Ниже — последние материалы и рубрики.
search-empty = Введите слово или фразу для поиска.
search-unavailable = Поисковый индекс сейчас обновляется, поэтому результаты могут быть неполными. Попробуйте чуть позже.
search-latest = Последние материалы
search-prev = Предыдущая
search-next = Следующая
comment-write = Оставить комментарий
comment-name = Ваше имя
comment-email = Эл. почта (необязательно, не публикуется)
comment-body = Комментарий
comment-send = Отправить
comment-moderated = Комментарии появляются после модерации.
comment-sent = Спасибо! Комментарий появится после модерации.
comment-refused-title = Комментарий не отправлен
comment-back = Вернуться к статье
comment-failed = Сейчас не удалось сохранить комментарий; попробуйте позже.
