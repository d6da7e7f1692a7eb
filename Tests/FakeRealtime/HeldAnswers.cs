namespace CaptionSidecar.FakeRealtime;

/// <summary>Answers held back (fault injection, server-wide): a response whose text is held streams nothing until released or cancelled.</summary>
internal sealed partial class LanguageStalls
{
    private readonly Dictionary<string, TaskCompletionSource> _heldAnswers = new(StringComparer.Ordinal);

    public void HoldAnswer(string text)
    {
        lock (_gate)
        {
            _heldAnswers.TryAdd(text.Trim(), new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        }
    }

    public void ReleaseAnswer(string text)
    {
        lock (_gate)
        {
            if (_heldAnswers.Remove(text.Trim(), out var held))
            {
                held.TrySetResult();
            }
        }
    }

    /// <summary>Completes when <paramref name="text"/> is not held (at once for text never held).</summary>
    public Task WhenAnswerReleasedAsync(string text, CancellationToken ct)
    {
        lock (_gate)
        {
            return _heldAnswers.TryGetValue(text.Trim(), out var held) ? held.Task.WaitAsync(ct) : Task.CompletedTask;
        }
    }
}

/// <summary>Fault injection for text answers.</summary>
public sealed partial class FakeFaults
{
    /// <summary>
    /// From now on every response whose answer is <paramref name="answerText"/> (a script line of a target language)
    /// starts (<c>response.created</c>, the output item) but streams no word until <see cref="ReleaseAnswer"/>, or
    /// until the client cancels it (then it ends <c>cancelled</c> with no text), or the session ends: a translation
    /// that stalls.
    /// </summary>
    public void HoldAnswer(string answerText)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(answerText);
        _server.Stalls.HoldAnswer(answerText);
    }

    /// <summary>Ends a <see cref="HoldAnswer"/>: held responses stream their words.</summary>
    public void ReleaseAnswer(string answerText)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(answerText);
        _server.Stalls.ReleaseAnswer(answerText);
    }
}
