using System.Text.RegularExpressions;

namespace CaptionSidecar.FakeRealtime;

/// <summary>Which script a transcription session's turn takes its line from (see <see cref="FakeRealtimeOptions.SpeakerScripts"/>).</summary>
internal static partial class SpeakerScriptChoice
{
    /// <summary>
    /// The speaker script named in <paramref name="prompt"/> (a <c>[speaker:NAME]</c> marker anywhere, else a last line
    /// <c>Speaker: NAME.</c>, the form the sidecar writes, NAME of letters, digits, spaces and <c>. _ -</c>), else the one keyed by
    /// <paramref name="language"/>, else the shared script (key null). <paramref name="unknownMarker"/> is a marker's
    /// name that matched no key (the caller logs it), else null.
    /// </summary>
    public static (string? Key, FakeScript Script) For(FakeRealtimeOptions options, string? prompt, string? language, out string? unknownMarker)
    {
        unknownMarker = null;
        if (options.SpeakerScripts.Count == 0)
        {
            return (null, options.Script);
        }

        if (NamedSpeaker(prompt) is { } name)
        {
            if (Find(options, name) is { } byName)
            {
                return byName;
            }

            unknownMarker = name;
        }

        return language is not null && Find(options, language.Trim()) is { } byLanguage ? byLanguage : (null, options.Script);
    }

    /// <summary>The speaker a transcription prompt names: a <c>[speaker:NAME]</c> marker, else a last line <c>Speaker: NAME.</c>; null when it names none.</summary>
    internal static string? NamedSpeaker(string? prompt)
    {
        if (prompt is null)
        {
            return null;
        }

        if (SpeakerMarker().Match(prompt) is { Success: true } marker)
        {
            return marker.Groups[1].Value.Trim();
        }

        return SpeakerLine().Match(prompt) is { Success: true } line ? line.Groups["name"].Value.Trim() : null;
    }

    /// <summary>Every script a source sentence may come from: the shared one first, then the speakers' in key order.</summary>
    public static IEnumerable<FakeScript> All(FakeRealtimeOptions options) =>
        [options.Script, .. options.SpeakerScripts.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => s.Value)];

    private static (string? Key, FakeScript Script)? Find(FakeRealtimeOptions options, string key)
    {
        foreach (var (name, script) in options.SpeakerScripts)
        {
            if (string.Equals(name, key, StringComparison.OrdinalIgnoreCase))
            {
                return (name, script);
            }
        }

        return null;
    }

    [GeneratedRegex(@"\[speaker:([^\]]+)\]", RegexOptions.IgnoreCase)]
    private static partial Regex SpeakerMarker();

    /// <summary>The prompt's last line <c>Speaker: NAME.</c> (the name may hold dots; the line's last dot ends it).</summary>
    [GeneratedRegex(@"(?:\A|\n)[ \t]*Speaker:[ \t]*(?<name>[\p{L}\p{Nd} ._-]+?)[ \t]*\.\s*\z", RegexOptions.IgnoreCase)]
    private static partial Regex SpeakerLine();
}
