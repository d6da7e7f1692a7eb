namespace CaptionSidecar.Hosting;

/// <summary>The exit code the process ends with; the pipeline sets it when a run fails.</summary>
public sealed class ProcessOutcome
{
    private int _exitCode;

    /// <summary>0 unless a failure was recorded.</summary>
    public int ExitCode => Volatile.Read(ref _exitCode);

    /// <summary>Records a failure; the first non-zero code wins.</summary>
    public void Fail(int exitCode)
    {
        ArgumentOutOfRangeException.ThrowIfZero(exitCode);
        Interlocked.CompareExchange(ref _exitCode, exitCode, 0);
    }
}
