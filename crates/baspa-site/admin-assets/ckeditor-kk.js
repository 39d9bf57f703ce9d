/* Baspa: Kazakh UI strings for the CKEditor 5 toolbar and dialogs we use (the upstream kk
 * translation is nearly empty). Same shape as CKEditor's own translation files; GPL-3.0-or-later.
 * Terms follow ../../../../shared/KAZAKH.md (glossary). */
(function (e) {
  const dictionary = {
    "Bold": "Жуан", "Italic": "Курсив", "Underline": "Асты сызылған", "Strikethrough": "Сызылған",
    "Subscript": "Төменгі индекс", "Superscript": "Жоғарғы индекс", "Link": "Сілтеме", "Unlink": "Сілтемені алып тастау",
    "Edit link": "Сілтемені өзгерту", "Link URL": "Сілтеме мекенжайы", "Link URL must not be empty.": "Сілтеме мекенжайы бос болмауы керек.",
    "Open in a new tab": "Жаңа бетте ашу", "Open link in new tab": "Сілтемені жаңа бетте ашу",
    "Bulleted List": "Таңбалы тізім", "Numbered List": "Нөмірленген тізім", "Block quote": "Дәйексөз",
    "Insert table": "Кесте кірістіру", "Heading": "Тақырып", "Choose heading": "Тақырып деңгейін таңдаңыз",
    "Paragraph": "Абзац", "Heading 1": "1-деңгейлі тақырып", "Heading 2": "2-деңгейлі тақырып",
    "Heading 3": "3-деңгейлі тақырып", "Heading 4": "4-деңгейлі тақырып", "Undo": "Болдырмау", "Redo": "Қайтару",
    "Remove Format": "Пішімді тазалау", "Insert image": "Сурет кірістіру", "Insert media": "Медиа кірістіру",
    "Horizontal line": "Көлденең сызық", "Image": "Сурет", "Caption for the image": "Суреттің жазуы",
    "Caption for image: %0": "Сурет жазуы: %0", "Enter image caption": "Сурет жазуын енгізіңіз",
    "Text alternative": "Балама мәтін", "Change image text alternative": "Суреттің балама мәтінін өзгерту",
    "Toggle caption on": "Жазуды қосу", "Toggle caption off": "Жазуды өшіру",
    "Table": "Кесте", "Column": "Баған", "Row": "Жол", "Merge cells": "Ұяшықтарды біріктіру",
    "Insert column left": "Сол жаққа баған қосу", "Insert column right": "Оң жаққа баған қосу",
    "Delete column": "Бағанды жою", "Insert row above": "Жоғарыға жол қосу", "Insert row below": "Төменге жол қосу",
    "Delete row": "Жолды жою", "Header column": "Тақырып бағаны", "Header row": "Тақырып жолы",
    "Select column": "Бағанды таңдау", "Select row": "Жолды таңдау", "Merge cell up": "Жоғарғымен біріктіру",
    "Merge cell right": "Оң жақпен біріктіру", "Merge cell down": "Төменгімен біріктіру", "Merge cell left": "Сол жақпен біріктіру",
    "Split cell vertically": "Тігінен бөлу", "Split cell horizontally": "Көлденеңінен бөлу",
    "Table toolbar": "Кесте құралдары", "Image toolbar": "Сурет құралдары", "Editor toolbar": "Редактор құралдары",
    "Widget toolbar": "Виджет құралдары", "Dropdown toolbar": "Ашылмалы құралдар", "Show more items": "Тағы көрсету",
    "Rich Text Editor": "Мәтін редакторы", "Rich Text Editor. Editing area: %0": "Мәтін редакторы. Өңдеу аймағы: %0",
    "Editing area: %0": "Өңдеу аймағы: %0",
    "Media URL": "Медиа мекенжайы", "Paste the media URL in the input.": "Медиа мекенжайын өріске қойыңыз.",
    "Insert image via URL": "Суретті мекенжай бойынша кірістіру", "Update image URL": "Сурет мекенжайын жаңарту",
    "Insert paragraph before block": "Блоктың алдына абзац қосу", "Insert paragraph after block": "Блоктан кейін абзац қосу",
    "Words: %0": "Сөз: %0", "Characters: %0": "Таңба: %0", "Save": "Сақтау", "Cancel": "Бас тарту",
    "Insert": "Кірістіру", "Update": "Жаңарту", "Accept": "Қабылдау", "Close": "Жабу",
    "Enter table caption": "Кесте жазуын енгізіңіз", "Toggle caption": "Жазуды ауыстыру", "Table caption": "Кесте жазуы",
    "Select all": "Барлығын таңдау", "Source": "Бастапқы код", "Break text": "Мәтінді бөлу", "In line": "Жолда",
    "Wrap text": "Мәтінмен орау", "Upload image from computer": "Компьютерден сурет жүктеу",
    "The URL must not be empty.": "Мекенжай бос болмауы керек.",
    "This media URL is not supported.": "Бұл медиа мекенжайына қолдау жоқ.",
    "Revert autoformatting action": "Автопішімдеуді болдырмау"
  };
  e.kk ||= { dictionary: {}, getPluralForm: null };
  e.kk.dictionary = Object.assign(e.kk.dictionary, dictionary);
  e.kk.getPluralForm = e.kk.getPluralForm || function () { return 0; };
})(window.CKEDITOR_TRANSLATIONS ||= {});
