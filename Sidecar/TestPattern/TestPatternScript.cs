namespace CaptionSidecar.TestPattern;

/// <summary>
/// The sample sentences the test pattern speaks in one language: chosen to set up a caption source (position,
/// size, wrapping to two lines, a long word, numbers and punctuation), each labelled <c>[TEST]</c> so nobody
/// mistakes them for real captions.
/// </summary>
/// <param name="Sentences">The sentences, spoken in order and then again.</param>
/// <param name="WrittenWithoutSpaces">Whether the language is written without spaces between words (Japanese), so text arrives in short runs of characters rather than word by word.</param>
internal sealed record TestPatternScript(IReadOnlyList<string> Sentences, bool WrittenWithoutSpaces)
{
    /// <summary>The label every sample sentence starts with.</summary>
    public const string Label = "[TEST]";

    private static readonly string[] English =
    [
        "[TEST] This is a sample caption so you can position and style this source.",
        "[TEST] No speech is being captioned: set an OpenAI API key to caption your voice.",
        "[TEST] This longer sample sentence is here to check that captions wrap neatly onto a second line without being cut off.",
        "[TEST] Short line.",
        "[TEST] Numbers and punctuation: 1,234.56 dollars, 98.6% sure, 10:45 a.m. on 3/14 — right?",
        "[TEST] A very long word must still fit: pneumonoultramicroscopicsilicovolcanoconiosis.",
        "[TEST] Quotes \"like these\", 'these', and brackets (like these) should look right.",
        "[TEST] Check that the text is readable over a bright background and over a dark one.",
        "[TEST] The captions clear after a few seconds of silence; the next pause is long enough to see it.",
        "[TEST] Everything looks good? Great, you are ready to stream.",
    ];

    private static readonly Dictionary<string, TestPatternScript> Scripts = new(StringComparer.OrdinalIgnoreCase)
    {
        ["en"] = new(English, false),
        ["es"] = new(
        [
            "[TEST] Este es un subtítulo de ejemplo para colocar y dar estilo a esta fuente.",
            "[TEST] No se está subtitulando ninguna voz: configura una clave de API de OpenAI para subtitular tu voz.",
            "[TEST] Esta frase de ejemplo más larga sirve para comprobar que los subtítulos pasan a una segunda línea sin cortarse.",
            "[TEST] Línea corta.",
            "[TEST] Números y puntuación: 1.234,56 euros, un 98,6 % seguro, a las 10:45 del 14/3, ¿verdad?",
            "[TEST] Una palabra muy larga también debe caber: electroencefalografista.",
            "[TEST] Comillas «como estas», \"estas\" y paréntesis (como estos) deben verse bien.",
            "[TEST] Comprueba que el texto se lee bien sobre un fondo claro y sobre uno oscuro.",
            "[TEST] Los subtítulos se borran tras unos segundos de silencio; la próxima pausa es lo bastante larga para verlo.",
            "[TEST] ¿Todo se ve bien? ¡Genial, ya puedes empezar a transmitir!",
        ], false),
        ["fr"] = new(
        [
            "[TEST] Ceci est un sous-titre d'exemple pour placer et mettre en forme cette source.",
            "[TEST] Aucune voix n'est sous-titrée : configurez une clé d'API OpenAI pour sous-titrer votre voix.",
            "[TEST] Cette phrase d'exemple plus longue vérifie que les sous-titres passent proprement sur une deuxième ligne.",
            "[TEST] Ligne courte.",
            "[TEST] Chiffres et ponctuation : 1 234,56 euros, sûr à 98,6 %, à 10 h 45 le 14/03 — d'accord ?",
            "[TEST] Un mot très long doit aussi tenir : anticonstitutionnellement.",
            "[TEST] Les guillemets « comme ceux-ci », \"ceux-là\" et les parenthèses (comme celles-ci) doivent bien s'afficher.",
            "[TEST] Vérifiez que le texte est lisible sur un fond clair comme sur un fond sombre.",
            "[TEST] Les sous-titres s'effacent après quelques secondes de silence ; la prochaine pause est assez longue pour le voir.",
            "[TEST] Tout va bien ? Parfait, vous êtes prêt à diffuser !",
        ], false),
        ["de"] = new(
        [
            "[TEST] Dies ist ein Beispieluntertitel, damit Sie diese Quelle platzieren und gestalten können.",
            "[TEST] Es wird keine Sprache untertitelt: Legen Sie einen OpenAI-API-Schlüssel fest, um Ihre Stimme zu untertiteln.",
            "[TEST] Dieser längere Beispielsatz prüft, ob die Untertitel sauber in eine zweite Zeile umbrechen, ohne abgeschnitten zu werden.",
            "[TEST] Kurze Zeile.",
            "[TEST] Zahlen und Satzzeichen: 1.234,56 Euro, zu 98,6 % sicher, um 10:45 Uhr am 14.3. – oder?",
            "[TEST] Auch ein sehr langes Wort muss passen: Donaudampfschifffahrtsgesellschaftskapitän.",
            "[TEST] Anführungszeichen „wie diese“, \"diese\" und Klammern (wie diese) sollten richtig aussehen.",
            "[TEST] Prüfen Sie, ob der Text auf hellem und auf dunklem Hintergrund lesbar ist.",
            "[TEST] Die Untertitel verschwinden nach einigen Sekunden Stille; die nächste Pause ist lang genug, um das zu sehen.",
            "[TEST] Sieht alles gut aus? Prima, Sie können mit dem Stream beginnen!",
        ], false),
        ["pt"] = new(
        [
            "[TEST] Esta é uma legenda de exemplo para posicionar e estilizar esta fonte.",
            "[TEST] Nenhuma fala está sendo legendada: configure uma chave de API da OpenAI para legendar sua voz.",
            "[TEST] Esta frase de exemplo mais longa serve para verificar se as legendas quebram para uma segunda linha sem cortes.",
            "[TEST] Linha curta.",
            "[TEST] Números e pontuação: 1.234,56 reais, 98,6% de certeza, às 10h45 do dia 14/3 — certo?",
            "[TEST] Uma palavra muito longa também precisa caber: inconstitucionalissimamente.",
            "[TEST] Aspas \"como estas\", 'estas' e parênteses (como estes) devem aparecer corretamente.",
            "[TEST] Verifique se o texto fica legível sobre um fundo claro e sobre um fundo escuro.",
            "[TEST] As legendas somem após alguns segundos de silêncio; a próxima pausa é longa o bastante para ver isso.",
            "[TEST] Tudo certo? Ótimo, você está pronto para transmitir!",
        ], false),
        ["it"] = new(
        [
            "[TEST] Questo è un sottotitolo di esempio per posizionare e personalizzare questa fonte.",
            "[TEST] Nessuna voce viene sottotitolata: imposta una chiave API di OpenAI per sottotitolare la tua voce.",
            "[TEST] Questa frase di esempio più lunga serve a verificare che i sottotitoli vadano a capo su una seconda riga senza tagli.",
            "[TEST] Riga breve.",
            "[TEST] Numeri e punteggiatura: 1.234,56 euro, sicuro al 98,6%, alle 10:45 del 14/3 — giusto?",
            "[TEST] Anche una parola molto lunga deve starci: precipitevolissimevolmente.",
            "[TEST] Virgolette «come queste», \"queste\" e parentesi (come queste) devono apparire correttamente.",
            "[TEST] Controlla che il testo sia leggibile su uno sfondo chiaro e su uno scuro.",
            "[TEST] I sottotitoli spariscono dopo qualche secondo di silenzio; la prossima pausa è abbastanza lunga per vederlo.",
            "[TEST] Tutto a posto? Ottimo, sei pronto per andare in diretta!",
        ], false),
        ["ja"] = new(
        [
            "[TEST] これは字幕のサンプルです。位置とスタイルを調整してください。",
            "[TEST] 音声は字幕化されていません。OpenAIのAPIキーを設定してください。",
            "[TEST] この長めのサンプル文は、字幕が途中で切れずに二行目へきれいに折り返されるかを確認するためのものです。",
            "[TEST] 短い行。",
            "[TEST] 数字と記号：1,234.56円、98.6%、3月14日10時45分？",
            "[TEST] 長い単語：アンチディスエスタブリッシュメンタリアニズム。",
            "[TEST] かぎかっこ「このように」と（かっこ）が正しく表示されるか確認してください。",
            "[TEST] 明るい背景と暗い背景の両方で読みやすいか確認してください。",
            "[TEST] 数秒間話さないと字幕は消えます。次の間は長めです。",
            "[TEST] 問題なければ配信の準備は完了です！",
        ], true),
    };

    /// <summary>The script for <paramref name="language"/>: its own sentences, or the English ones marked with the code.</summary>
    public static TestPatternScript For(string language)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(language);
        if (Scripts.TryGetValue(language, out var script))
        {
            return script;
        }

        var marked = English.Select(s => $"{Label} ({language}){s[Label.Length..]}").ToArray();
        return new TestPatternScript(marked, false);
    }
}
