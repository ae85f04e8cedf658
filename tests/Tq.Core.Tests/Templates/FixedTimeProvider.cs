namespace Tq.Core.Tests.Templates;

/// <summary>A clock stopped at one instant, in UTC, so date-printing templates render reproducibly.</summary>
internal sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
{
    /// <summary>The day llama.cpp rendered the reference templates on.</summary>
    public static FixedTimeProvider ReferenceDay { get; } = new(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));

    public override DateTimeOffset GetUtcNow() => now;

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
}
