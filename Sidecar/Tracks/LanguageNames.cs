using System.Collections.Frozen;

namespace CaptionSidecar.Tracks;

/// <summary>
/// English names of the languages the Realtime models translate well, for display and for translation instructions.
/// The sidecar runs with invariant globalization (no ICU), so culture data cannot supply them.
/// </summary>
public static class LanguageNames
{
    private static readonly FrozenDictionary<string, string> Names = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["ar"] = "Arabic", ["bg"] = "Bulgarian", ["ca"] = "Catalan", ["cs"] = "Czech", ["da"] = "Danish", ["de"] = "German",
        ["el"] = "Greek", ["en"] = "English", ["es"] = "Spanish", ["et"] = "Estonian", ["fa"] = "Persian", ["fi"] = "Finnish",
        ["fil"] = "Filipino", ["fr"] = "French", ["he"] = "Hebrew", ["hi"] = "Hindi", ["hr"] = "Croatian", ["hu"] = "Hungarian",
        ["id"] = "Indonesian", ["it"] = "Italian", ["ja"] = "Japanese", ["ko"] = "Korean", ["lt"] = "Lithuanian", ["lv"] = "Latvian",
        ["ms"] = "Malay", ["nb"] = "Norwegian Bokmål", ["nl"] = "Dutch", ["no"] = "Norwegian", ["pl"] = "Polish",
        ["pt"] = "Portuguese", ["pt-BR"] = "Brazilian Portuguese", ["pt-PT"] = "European Portuguese", ["ro"] = "Romanian",
        ["ru"] = "Russian", ["sk"] = "Slovak", ["sl"] = "Slovenian", ["sr"] = "Serbian", ["sv"] = "Swedish", ["sw"] = "Swahili",
        ["ta"] = "Tamil", ["th"] = "Thai", ["tr"] = "Turkish", ["uk"] = "Ukrainian", ["ur"] = "Urdu", ["vi"] = "Vietnamese",
        ["zh"] = "Chinese", ["zh-CN"] = "Simplified Chinese", ["zh-TW"] = "Traditional Chinese",
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    /// <summary>The English name of <paramref name="code"/> (ISO 639-1 with an optional region), or the code itself when unknown.</summary>
    public static string EnglishName(string code)
    {
        ArgumentNullException.ThrowIfNull(code);
        if (Names.TryGetValue(code, out var name))
        {
            return name;
        }

        var dash = code.IndexOf('-', StringComparison.Ordinal);
        return dash > 0 && Names.TryGetValue(code[..dash], out var baseName) ? $"{baseName} ({code[(dash + 1)..]})" : code;
    }

    /// <summary>
    /// The name to write in a sentence: the exact name when known (<c>pt-BR</c> → Brazilian Portuguese), else the base
    /// language's (<c>de-AT</c> → German), else the code itself.
    /// </summary>
    public static string PlainName(string code)
    {
        ArgumentNullException.ThrowIfNull(code);
        var dash = code.IndexOf('-', StringComparison.Ordinal);
        return Names.GetValueOrDefault(code) ?? (dash > 0 ? Names.GetValueOrDefault(code[..dash]) : null) ?? code;
    }
}
