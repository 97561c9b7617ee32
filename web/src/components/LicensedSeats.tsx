import { Button, Group, Modal, NumberInput, Stack, Text } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api } from '../api/client';
import { afterOrganizationChange } from '../api/keys';
import type { Organization } from '../api/types';
import { toast } from '../toast';
import { showFieldError } from './forms';
import { orgPath } from './hooks';

/** An organization's licensed seats as shown: the number, or "not tracked". */
export function licensedSeatsValue(seats: number | null): string {
  return seats === null ? 'not tracked' : seats.toLocaleString();
}

/**
 * Operators: the seats an organization's licence covers (the operator's contract with the
 * customer, so organization admins only read it). Empty stops tracking it.
 */
export function LicensedSeatsModal({
  org,
  opened,
  onClose,
}: {
  org: Organization;
  opened: boolean;
  onClose: () => void;
}) {
  return (
    <Modal opened={opened} onClose={onClose} title={`Licensed seats of ${org.name}`}>
      {/* Mounted with the dialog, so it opens with the saved value every time. */}
      {opened && <LicensedSeatsForm org={org} onDone={onClose} />}
    </Modal>
  );
}

function LicensedSeatsForm({ org, onDone }: { org: Organization; onDone: () => void }) {
  const queryClient = useQueryClient();
  const [formError, setFormError] = useState<string | null>(null);
  const form = useForm<{ seats: number | string }>({ initialValues: { seats: org.licensedSeats ?? '' } });
  const save = useMutation({
    mutationFn: (seats: number | null) =>
      api<Organization>('PATCH', orgPath(org.id), { licensedSeats: seats }),
    onMutate: () => setFormError(null),
    onSuccess: (next) => {
      toast({
        color: 'green',
        message: `${next.name}: licensed seats ${licensedSeatsValue(next.licensedSeats)}.`,
      });
      afterOrganizationChange(queryClient);
      onDone();
    },
    onError: (error) => {
      if (!showFieldError(form, ['seats'], error, { licensedSeats: 'seats' })) setFormError(error.message);
    },
  });
  return (
    <form onSubmit={form.onSubmit((v) => save.mutate(v.seats === '' ? null : Number(v.seats)))} noValidate>
      <Stack>
        <NumberInput
          label="Licensed seats"
          description="Billable users the customer's licence covers; previews warn when a sync would pass it. Shared, room and equipment mailboxes are not billed. Leave empty to stop tracking."
          min={0}
          allowDecimal={false}
          allowNegative={false}
          data-autofocus
          {...form.getInputProps('seats')}
        />
        {formError && (
          <Text c="red" size="sm" role="alert">
            {formError}
          </Text>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
          <Button type="submit" loading={save.isPending}>
            Save seats
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
