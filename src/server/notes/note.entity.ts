import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A user's note: the example feature module's one resource. */
@Entity('notes')
export class Note {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Index()
  @Column({ name: 'user_id', type: 'varchar', length: 36 })
  userId!: string;

  @Column({ type: 'varchar', length: 200 })
  title!: string;

  @Column({ type: 'text' })
  body!: string;

  @Column({ name: 'created_at', type: Date })
  createdAt!: Date;
}
