// PLACEHOLDER (contract only): the captions helper replaces this file.
using CaptionSidecar.Tracks;

namespace CaptionSidecar.Captions;

/// <summary>The caption state of one language: ordered turns, tentative then final; publishes laid-out updates.</summary>
public sealed class CaptionTrack : ICaptionInput, IDisposable
{
    public CaptionTrack(CaptionLanguage language, CaptionOptions options, ICaptionPublisher publisher, TimeProvider time)
    {
        throw new NotImplementedException();
    }

    public void SpeechStarted(TimeSpan at) => throw new NotImplementedException();

    public void SpeechStopped(TimeSpan at) => throw new NotImplementedException();

    public void TurnCommitted(string itemId, string? previousItemId, TimeSpan start, TimeSpan end) => throw new NotImplementedException();

    public void TextDelta(string itemId, string delta) => throw new NotImplementedException();

    public void TextCompleted(string itemId, string text) => throw new NotImplementedException();

    public void TurnFailed(string itemId, string reason) => throw new NotImplementedException();

    public void Dispose() => throw new NotImplementedException();
}
