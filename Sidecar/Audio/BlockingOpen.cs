namespace CaptionSidecar.Audio;

/// <summary>
/// Runs a call that may block for good (opening a FIFO blocks in open(2) until something opens it for writing, and
/// reading its header blocks until that writer writes) on a dedicated background thread, so no thread-pool thread
/// waits on it and the caller can stop waiting when it is cancelled.
/// </summary>
internal static class BlockingOpen
{
    /// <summary>
    /// Runs <paramref name="open"/> on a new background thread named <paramref name="name"/> and returns its result.
    /// When <paramref name="cancellationToken"/> is cancelled first, the returned task is cancelled at once; the thread
    /// stays parked in the blocking call (a background thread does not keep the process alive) and, should the call
    /// still return, hands its result to <paramref name="abandon"/>.
    /// </summary>
    public static async Task<T> RunAsync<T>(Func<T> open, Action<T> abandon, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(open);
        ArgumentNullException.ThrowIfNull(abandon);
        var result = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                var value = open();
                if (!result.TrySetResult(value))
                {
                    abandon(value);
                }
            }
            catch (Exception ex)
            {
                result.TrySetException(ex);
            }
        })
        { IsBackground = true, Name = name };
        thread.Start();
        using (cancellationToken.UnsafeRegister(static (state, token) => ((TaskCompletionSource<T>)state!).TrySetCanceled(token), result))
        {
            return await result.Task;
        }
    }
}
