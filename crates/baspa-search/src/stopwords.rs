//! Stop words, used at query time only: the index keeps every word (phrases like "в Алматы" need
//! them), but a query drops them unless nothing else is left, so "мектеп және ауыл" does not
//! match every text that contains "және".

use std::collections::HashSet;
use std::sync::OnceLock;

use crate::analysis::Analysis;

/// KAZAKH.md §3 (128 words, our decision [D]); ақ, ана and бас are content words and stay out.
const KAZAKH: &str = "және мен бен пен да де та те әрі бірақ алайда дегенмен ал не немесе әлде яки я егер онда сонда \
    өйткені себебі сондықтан яғни мысалы тіпті тек ғана қана ғой ба бе па пе ма ме ше шығар екен еді емес үшін туралы \
    жөнінде жайында бойынша арқылы дейін шейін кейін соң бері бұрын қарай сияқты секілді тәрізді сайын қатысты \
    байланысты бірге қарсы басқа гөрі қоса бойы ішінде кезінде арасында сен ол біз сіз олар сендер сіздер бұл осы сол \
    мына мынау анау кім қандай қай қайда қашан неге қалай қанша неше өз өзі әр әрбір барлық бәрі бүкіл кейбір ешкім \
    ештеңе бірнеше бар жоқ болды болып болады болған болса деп деді деген дейді етті етеді етіп тұр жатыр отыр енді әлі \
    тағы қазір өте ең көп аз";

/// Snowball `russian/stop.txt`, folded (ё → е).
const RUSSIAN: &str = "и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее мне \
    было вот от меня еще нет о из ему теперь когда даже ну вдруг ли если уже или ни быть был него до вас нибудь опять \
    уж вам ведь там потом себя ничего ей может они тут где есть надо ней для мы тебя их чем была сам чтоб без будто \
    чего раз тоже себе под будет ж тогда кто этот того потому этого какой совсем ним здесь этом один почти мой тем \
    чтобы нее сейчас были куда зачем всех никогда можно при наконец два об другой хоть после над больше тот через \
    эти нас про всего них какая много разве три эту моя впрочем хорошо свою этой перед иногда лучше чуть том нельзя \
    такой им более всегда конечно всю между";

/// A short English list: articles, conjunctions, common prepositions and pronouns.
const ENGLISH: &str = "a an and are as at be but by for from has have in into is it its of on or that the their \
    there these this to was were will with";

fn set(list: &'static str) -> HashSet<&'static str> {
    list.split_whitespace().collect()
}

/// Whether `word` (folded) is a stop word in the family's language. Plain has none: it serves
/// languages we know nothing about.
pub fn is_stop_word(family: Analysis, word: &str) -> bool {
    static KK: OnceLock<HashSet<&'static str>> = OnceLock::new();
    static RU: OnceLock<HashSet<&'static str>> = OnceLock::new();
    static EN: OnceLock<HashSet<&'static str>> = OnceLock::new();
    match family {
        Analysis::Kazakh => KK.get_or_init(|| set(KAZAKH)).contains(word),
        Analysis::Russian => RU.get_or_init(|| set(RUSSIAN)).contains(word),
        Analysis::English => EN.get_or_init(|| set(ENGLISH)).contains(word),
        Analysis::Plain => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_hold_function_words_but_not_content_words() {
        assert!(is_stop_word(Analysis::Kazakh, "және"));
        assert!(!is_stop_word(Analysis::Kazakh, "ақ"));
        assert!(!is_stop_word(Analysis::Kazakh, "ана"));
        assert!(is_stop_word(Analysis::Russian, "и"));
        assert!(is_stop_word(Analysis::Russian, "еще"), "the list is folded");
        assert!(is_stop_word(Analysis::English, "the"));
        assert!(!is_stop_word(Analysis::Plain, "the"));
        assert_eq!(KAZAKH.split_whitespace().count(), 128);
    }
}
