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

    public void SpeechStarted(TimeSpan at) => _calls.Enqueue($"started {at.TotalMilliseconds}");

    public void SpeechStopped(TimeSpan at) => _calls.Enqueue($"stopped {at.TotalMilliseconds}");

    public void TurnCommitted(string itemId, string? previousItemId, TimeSpan start, TimeSpan end)
    {
        _commits.Enqueue((itemId, previousItemId, start, end));
        _calls.Enqueue($"committed {itemId}");
    }

    public void TextDelta(string itemId, string delta) => _deltas.AddOrUpdate(itemId, delta, (_, old) => old + delta);

    public void TextCompleted(string itemId, string text)
    {
        _completed.Enqueue((itemId, text));
        _calls.Enqueue($"completed {itemId}");
    }

    public void TurnFailed(string itemId, string reason) => _calls.Enqueue($"failed {itemId} {reason}");

    /// <summary>Waits until <paramref name="count"/> turns completed.</summary>
    public async Task WaitForCompletedAsync(int count, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        while (_completed.Count < count)
        {
            await Task.Delay(20, timeout.Token);
        }
    }
}
