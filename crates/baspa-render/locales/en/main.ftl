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
search-label = Search the site
search-button = Search
search-title = Search
search-filters = Filters
search-section = Section
search-any-section = All sections
search-type = Type
search-any-type = All types
search-type-article = Article
search-type-document = Document
search-type-page = Page
search-from = From date
search-to = To date
search-sort = Sort
search-sort-relevance = Best match
search-sort-date = Newest first
search-results = { $count ->
    [one] { $count } result
   *[other] { $count } results
}
search-did-you-mean = Did you mean:
search-nothing = Nothing found
search-nothing-tips = Check the spelling, try another word or remove the filters. The latest texts and the sections are below.
search-empty = Type a word or a phrase to search.
search-unavailable = The search index is being rebuilt, so results may be incomplete. Please try again in a minute.
search-latest = Latest
search-prev = Previous
search-next = Next
comment-write = Leave a comment
comment-name = Your name
comment-email = E-mail (optional, never shown)
comment-body = Comment
comment-send = Send
comment-moderated = Comments appear after moderation.
comment-sent = Thank you! Your comment will appear after moderation.
comment-refused-title = The comment was not sent
comment-back = Back to the article
comment-failed = The comment could not be saved right now; please try again later.
