using CaptionSidecar.Tracks;

namespace CaptionSidecar.Translation;

/// <summary>The text translation of an engine that has none (the test pattern, which hears no audio and plans no text track).</summary>
internal sealed class NoTextTranslation : ITextTranslationTrackFactory
{
    public static NoTextTranslation Instance { get; } = new();

    private NoTextTranslation()
    {
    }

    public ITextTranslationTrack Create(CaptionLanguage target, bool realTime = true) =>
        throw new InvalidOperationException("This engine has no text translation: the pipeline plans text tracks only for an engine that hears audio.");
}
