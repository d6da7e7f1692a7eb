namespace CaptionSidecar.Captions;

/// <summary>
/// What a recognition engine reports about the turns it hears, for one caption language. A Realtime track and the
/// test-pattern engine both write here, so both go through the same caption path. Calls may come from any thread
/// but never concurrently for one language (each track calls from its own receive loop).
/// </summary>
/// <remarks>
/// Times are positions on the audio pipeline's timeline (see <see cref="Audio.AudioChunk.Start"/>); an engine that
/// has no audio timeline (the test pattern) uses the time elapsed since the sidecar started.
/// </remarks>
public interface ICaptionInput
{
    /// <summary>The speaker started talking (VAD).</summary>
    void SpeechStarted(TimeSpan at);

    /// <summary>The speaker stopped talking (VAD).</summary>
    void SpeechStopped(TimeSpan at);

    /// <summary>
    /// A turn was committed: it will get text. <paramref name="previousItemId"/> is the turn it follows (null for
    /// the first), which orders turns whose text arrives out of order.
    /// </summary>
    void TurnCommitted(string itemId, string? previousItemId, TimeSpan start, TimeSpan end);

    /// <summary>More tentative text for a turn.</summary>
    void TextDelta(string itemId, string delta);

    /// <summary>The final text of a turn. Replaces everything tentative for it.</summary>
    void TextCompleted(string itemId, string text);

    /// <summary>The turn will get no text (transcription failed, response cancelled or failed).</summary>
    void TurnFailed(string itemId, string reason);
}
