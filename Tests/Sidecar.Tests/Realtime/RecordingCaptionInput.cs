using System.Collections.Concurrent;
using CaptionSidecar.Captions;

namespace CaptionSidecar.Tests.Realtime;

/// <summary>An <see cref="ICaptionInput"/> that records every call, for checking what a track reports.</summary>
internal sealed class RecordingCaptionInput : ICaptionInput
{
    private readonly ConcurrentQueue<string> _calls = new();
    private readonly ConcurrentQueue<(string ItemId, string? Previous, TimeSpan Start, TimeSpan End)> _commits = new();
    private readonly ConcurrentQueue<(string ItemId, string Text)> _completed = new();
    private readonly ConcurrentDictionary<string, string> _deltas = new();
    private readonly ChangeSignal _changed = new();

    public IReadOnlyList<string> Calls => [.. _calls];

    public IReadOnlyList<(string ItemId, string? Previous, TimeSpan Start, TimeSpan End)> Commits => [.. _commits];

    public IReadOnlyList<(string ItemId, string Text)> Completed => [.. _completed];

    public IReadOnlyList<string> Failed => [.. _calls.Where(c => c.StartsWith("failed ", StringComparison.Ordinal))];

    /// <summary>The completed texts in the order their turns were committed (completions may arrive out of order).</summary>
    public IReadOnlyList<string> CompletedInTurnOrder()
    {
        var texts = _completed.ToDictionary(c => c.ItemId, c => c.Text, StringComparer.Ordinal);
        return [.. _commits.Where(c => texts.ContainsKey(c.ItemId)).Select(c => texts[c.ItemId])];
    }

    public string DeltasOf(string itemId) => _deltas.GetValueOrDefault(itemId, string.Empty);

    public void SpeechStarted(TimeSpan at) => Record($"started {at.TotalMilliseconds}");

    public void SpeechStopped(TimeSpan at) => Record($"stopped {at.TotalMilliseconds}");

    public void TurnCommitted(string itemId, string? previousItemId, TimeSpan start, TimeSpan end)
    {
        _commits.Enqueue((itemId, previousItemId, start, end));
        Record($"committed {itemId}");
    }

    public void TextDelta(string itemId, string delta)
    {
        _deltas.AddOrUpdate(itemId, delta, (_, old) => old + delta);
        _changed.Changed();
    }

    public void TextCompleted(string itemId, string text)
    {
        _completed.Enqueue((itemId, text));
        Record($"completed {itemId}");
    }

    public void TurnFailed(string itemId, string reason) => Record($"failed {itemId} {reason}");

    /// <summary>Waits until <paramref name="condition"/> about the recorded calls holds (woken by each call).</summary>
    public Task UntilAsync(Func<bool> condition, string what, CancellationToken cancellationToken) =>
        _changed.UntilAsync(condition, what, cancellationToken);

    private void Record(string call)
    {
        _calls.Enqueue(call);
        _changed.Changed();
    }

    /// <summary>Waits until <paramref name="count"/> turns completed.</summary>
    public Task WaitForCompletedAsync(int count, CancellationToken cancellationToken) =>
        UntilAsync(() => _completed.Count >= count, $"{count} turns completed", cancellationToken);
}
