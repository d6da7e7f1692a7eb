namespace CaptionSidecar.Tests.Support;

/// <summary>Waits for a condition that another task makes true (no timing assertion: only a generous upper bound).</summary>
public static class Poll
{
    public static async Task UntilAsync(Func<bool> condition, string what, CancellationToken cancellationToken, int timeoutMs = 15000)
    {
        var waited = 0;
        while (!condition())
        {
            if (waited >= timeoutMs)
            {
                Assert.Fail($"Timed out waiting until {what}");
            }

            await Task.Delay(10, cancellationToken);
            waited += 10;
        }
    }
}
