using CaptionSidecar.Realtime;
using CaptionSidecar.Speakers;

namespace CaptionSidecar.Pipeline;

/// <summary>What a running track does.</summary>
internal enum TrackRole
{
    /// <summary>Hears one speaker and transcribes them in the language they speak.</summary>
    Transcribe,

    /// <summary>Hears one speaker and translates the audio into another language (<c>--translate-from audio</c>).</summary>
    AudioTranslate,

    /// <summary>Translates the final lines of every speaker of another language into one language (<c>--translate-from text</c>).</summary>
    TextTranslate,

    /// <summary>The test pattern's captions of one language (no audio).</summary>
    Pattern,
}

/// <summary>One track the pipeline runs: its role, the speaker it hears (null for a text translation), its language.</summary>
internal readonly record struct TrackKey(TrackRole Role, string? Speaker, string Language)
{
    /// <summary>A name for logs and audio queues, for example <c>transcribe:Alice:en</c>.</summary>
    public override string ToString() => Speaker is null ? $"{Role.ToString().ToLowerInvariant()}:{Language}" : $"{Role.ToString().ToLowerInvariant()}:{Speaker}:{Language}";
}

/// <summary>
/// Which tracks should run, without a clock or a socket: from the languages moderators turned on, the speakers they
/// caption, and what translations work from. The pipeline starts what is missing and stops what is no longer wanted.
/// <list type="bullet">
/// <item>A speaker is transcribed in their language while that language is on, or (text translation) while any
/// other language is on: its lines are what the translations work from.</item>
/// <item>Audio translation: each language on gets a track per captioned speaker who speaks another language.</item>
/// <item>Text translation: each language on that some captioned speaker does not speak gets one track for all of them.</item>
/// <item>The test pattern hears nobody: one track per language on, for the first speaker.</item>
/// </list>
/// </summary>
internal static class TrackPlan
{
    /// <summary>The tracks that should run.</summary>
    public static HashSet<TrackKey> Desired(
        IReadOnlyList<Speaker> speakers, Func<string, bool> captioned, IReadOnlyCollection<string> languagesOn, TranslationSource from, bool usesAudio)
    {
        ArgumentNullException.ThrowIfNull(speakers);
        ArgumentNullException.ThrowIfNull(captioned);
        ArgumentNullException.ThrowIfNull(languagesOn);
        var desired = new HashSet<TrackKey>();
        if (!usesAudio)
        {
            foreach (var language in languagesOn)
            {
                desired.Add(new TrackKey(TrackRole.Pattern, speakers[0].Key, language));
            }

            return desired;
        }

        foreach (var speaker in speakers.Where(s => captioned(s.Key)))
        {
            var others = languagesOn.Where(l => !Same(l, speaker.Language)).ToList();
            var ownOn = languagesOn.Any(l => Same(l, speaker.Language));
            if (ownOn || (from == TranslationSource.Text && others.Count > 0))
            {
                desired.Add(new TrackKey(TrackRole.Transcribe, speaker.Key, speaker.Language));
            }

            foreach (var language in others)
            {
                desired.Add(from == TranslationSource.Audio
                    ? new TrackKey(TrackRole.AudioTranslate, speaker.Key, language)
                    : new TrackKey(TrackRole.TextTranslate, null, language));
            }
        }

        return desired;
    }

    /// <summary>Language codes compare without case (<c>pt-BR</c> and <c>pt-br</c> are one language).</summary>
    public static bool Same(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);
}
