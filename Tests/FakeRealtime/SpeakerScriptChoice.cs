using System.Text.RegularExpressions;

namespace CaptionSidecar.FakeRealtime;

/// <summary>Which script a transcription session's turn takes its line from (see <see cref="FakeRealtimeOptions.SpeakerScripts"/>).</summary>
internal static partial class SpeakerScriptChoice
{
    /// <summary>
    /// The speaker script named by a <c>[speaker:NAME]</c> marker in <paramref name="prompt"/>, else the one keyed by
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

        if (prompt is not null && SpeakerMarker().Match(prompt) is { Success: true } marker)
        {
            var name = marker.Groups[1].Value.Trim();
            if (Find(options, name) is { } byName)
            {
                return byName;
            }

            unknownMarker = name;
        }

        return language is not null && Find(options, language.Trim()) is { } byLanguage ? byLanguage : (null, options.Script);
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
}
