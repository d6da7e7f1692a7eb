using CaptionSidecar.Captions;

namespace CaptionSidecar.Realtime;

/// <summary>
/// Passes a track's caption reports on one at a time. During a rollover two sessions of the track report at once
/// (the old one finishing its last turns, the new one hearing the live audio), while a caption input is called
/// by one receive loop at a time.
/// </summary>
internal sealed class SerialCaptionInput(ICaptionInput captions) : ICaptionInput
{
    private readonly Lock _gate = new();

    /// <inheritdoc />
    public void SpeechStarted(TimeSpan at)
    {
        lock (_gate)
        {
            captions.SpeechStarted(at);
        }
    }

    /// <inheritdoc />
    public void SpeechStopped(TimeSpan at)
    {
        lock (_gate)
        {
            captions.SpeechStopped(at);
        }
    }

    /// <inheritdoc />
    public void TurnCommitted(string itemId, string? previousItemId, TimeSpan start, TimeSpan end)
    {
        lock (_gate)
        {
            captions.TurnCommitted(itemId, previousItemId, start, end);
        }
    }

    /// <inheritdoc />
    public void TextDelta(string itemId, string delta)
    {
        lock (_gate)
        {
            captions.TextDelta(itemId, delta);
        }
    }

    /// <inheritdoc />
    public void TextCompleted(string itemId, string text)
    {
        lock (_gate)
        {
            captions.TextCompleted(itemId, text);
        }
    }

    /// <inheritdoc />
    public void TurnFailed(string itemId, string reason)
    {
        lock (_gate)
        {
            captions.TurnFailed(itemId, reason);
        }
    }
}
