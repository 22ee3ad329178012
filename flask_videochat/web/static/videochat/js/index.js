/**
 * flask-videochat's browser side. Loading this module defines `<video-chat>`.
 *
 * Its one export is the element's class, whose methods, properties, attributes and
 * `videochat-*` events are the widget's API (docs/widget.md): subclass it to define
 * the element under another tag (`class MyChat extends VideoChatElement {}`,
 * `MyChat.define("my-chat")`). The other modules are the widget's internals.
 * @module index
 */

import { VideoChatElement } from "./element.js";
import { usePageWords } from "./i18n.js";

export { VideoChatElement };

// The words of the request's locale, rendered by widget() (docs/i18n.md), before
// any element is built.
usePageWords(document);
VideoChatElement.define();
