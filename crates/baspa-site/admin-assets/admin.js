/* Baspa admin: the rich-text editor (CKEditor 5, GPL build), .docx import through mammoth,
 * and confirmations before irreversible steps. Everything the editor sends is sanitised again
 * on the server; this file only makes typing pleasant. Loaded with `defer`. */
(function () {
  'use strict';
  document.querySelectorAll('form[data-confirm]').forEach(function (form) {
    form.addEventListener('submit', function (event) {
      if (!window.confirm(form.getAttribute('data-confirm'))) { event.preventDefault(); }
    });
  });
  var area = document.querySelector('textarea[data-editor]');
  if (!area || !window.CKEDITOR) { return; }
  var C = window.CKEDITOR;
  var ui = document.documentElement.getAttribute('lang') || 'kk';
  C.ClassicEditor.create(area, {
    licenseKey: 'GPL',
    language: ui,
    translations: [window.CKEDITOR_TRANSLATIONS || {}],
    plugins: [C.Essentials, C.Paragraph, C.Heading, C.Bold, C.Italic, C.Underline, C.Strikethrough,
      C.Subscript, C.Superscript, C.Link, C.List, C.BlockQuote, C.Table, C.TableToolbar, C.TableCaption,
      C.Image, C.ImageCaption, C.ImageToolbar, C.ImageTextAlternative, C.ImageInsertViaUrl, C.MediaEmbed,
      C.PasteFromOffice, C.RemoveFormat, C.Autoformat, C.HorizontalLine],
    toolbar: { items: ['heading', '|', 'bold', 'italic', 'underline', 'strikethrough', 'link', '|',
      'bulletedList', 'numberedList', 'blockQuote', 'insertTable', 'insertImage', 'mediaEmbed',
      'horizontalLine', '|', 'removeFormat', 'undo', 'redo'], shouldNotGroupWhenFull: false },
    heading: { options: [
      { model: 'paragraph', title: 'Paragraph', class: 'ck-heading_paragraph' },
      { model: 'heading2', view: 'h2', title: 'Heading 2', class: 'ck-heading_heading2', upcastAlso: ['h1'] },
      { model: 'heading3', view: 'h3', title: 'Heading 3', class: 'ck-heading_heading3' },
      { model: 'heading4', view: 'h4', title: 'Heading 4', class: 'ck-heading_heading4' }] },
    table: { contentToolbar: ['tableColumn', 'tableRow', 'mergeTableCells', 'toggleTableCaption'] },
    image: { toolbar: ['toggleImageCaption', 'imageTextAlternative'] },
    mediaEmbed: { previewsInData: false },
    link: { defaultProtocol: 'https://' }
  }).then(function (editor) {
    window.baspaEditor = editor;
    var docx = document.querySelector('input[data-docx]');
    var status = document.querySelector('[data-docx-status]');
    if (!docx || !window.mammoth) { return; }
    docx.addEventListener('change', function () {
      var file = docx.files && docx.files[0];
      if (!file) { return; }
      file.arrayBuffer().then(function (buffer) {
        return window.mammoth.convertToHtml({ arrayBuffer: buffer });
      }).then(function (result) {
        // A document's Heading 1 becomes the article's h2: the page title is the h1.
        editor.setData(result.value);
        if (status) { status.textContent = status.getAttribute('data-ok'); }
      }).catch(function () {
        if (status) { status.textContent = status.getAttribute('data-failed'); }
      });
    });
  }).catch(function (error) {
    // Without the editor the plain textarea still works; say so once in the console.
    window.console && window.console.error('editor failed to start', error);
  });
})();
