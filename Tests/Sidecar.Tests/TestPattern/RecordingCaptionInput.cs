using CaptionSidecar.Captions;

namespace CaptionSidecar.Tests.TestPattern;

/// <summary>Records every call a track makes into its caption input, in order.</summary>
internal sealed class RecordingCaptionInput : ICaptionInput
{
    private readonly Lock _gate = new();
    private readonly List<Call> _calls = [];

    /// <summary>One call: its name, the item id (if any), the text (if any) and the times (if any).</summary>
    public sealed record Call(string Name, string? ItemId = null, string? PreviousItemId = null, string? Text = null, TimeSpan? Start = null, TimeSpan? End = null);

    public IReadOnlyList<Call> Calls
    {
        get
        {
            lock (_gate)
            {
                return [.. _calls];
            }
        }
    }

    public int Count(string name) => Calls.Count(c => c.Name == name);

    public void SpeechStarted(TimeSpan at) => Add(new Call(nameof(SpeechStarted), Start: at));

    public void SpeechStopped(TimeSpan at) => Add(new Call(nameof(SpeechStopped), Start: at));

    public void TurnCommitted(string itemId, string? previousItemId, TimeSpan start, TimeSpan end) =>
        Add(new Call(nameof(TurnCommitted), itemId, previousItemId, Start: start, End: end));

    public void TextDelta(string itemId, string delta) => Add(new Call(nameof(TextDelta), itemId, Text: delta));

    public void TextCompleted(string itemId, string text) => Add(new Call(nameof(TextCompleted), itemId, Text: text));

    public void TurnFailed(string itemId, string reason) => Add(new Call(nameof(TurnFailed), itemId, Text: reason));

    private void Add(Call call)
    {
        lock (_gate)
        {
            _calls.Add(call);
        }
    }
}
