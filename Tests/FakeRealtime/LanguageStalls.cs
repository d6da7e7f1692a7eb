namespace CaptionSidecar.FakeRealtime;

/// <summary>
/// The target languages whose conversation sessions are stalled (fault injection, server-wide). A stalled session
/// stops reading client events until its language is resumed. Thread-safe.
/// </summary>
internal sealed partial class LanguageStalls
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, TaskCompletionSource> _stalled = new(StringComparer.OrdinalIgnoreCase);

    public void Stall(string language)
    {
        lock (_gate)
        {
            _stalled.TryAdd(language, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        }
    }

    public void Resume(string language)
    {
        lock (_gate)
        {
            if (_stalled.Remove(language, out var stall))
            {
                stall.TrySetResult();
            }
        }
    }

    /// <summary>Completes when <paramref name="language"/> (null: none) is not stalled.</summary>
    public Task WhenRunningAsync(string? language, CancellationToken ct)
    {
        if (language is null)
        {
            return Task.CompletedTask;
        }

        lock (_gate)
        {
            return _stalled.TryGetValue(language, out var stall) ? stall.Task.WaitAsync(ct) : Task.CompletedTask;
        }
    }
}
