site-name = Baspa
home = Home
latest-news = Latest news
sections = Sections
read-more = Read more
author = Author
published = Published
tags = Tags
comments = { $count ->
    [one] { $count } comment
   *[other] { $count } comments
}
no-comments = No comments yet.
no-entries = Nothing has been published in this section yet.
subsections = Subsections
language = Language
not-found-title = Page not found
not-found-text = The page you asked for does not exist or was removed. Go back to the home page.
error-title = Something went wrong
error-text = We could not complete the request. Please try again later.
request-id = Request id
skip-to-content = Skip to content
tag = Tag
not-translated = This item is not available in the chosen language, so the nearest page is shown.
gone-title = Removed
gone-text = This item has been removed from the site.
pages = Pages
newer = Newer
older = Older
archive = Archive
