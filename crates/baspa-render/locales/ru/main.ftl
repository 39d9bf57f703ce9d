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
